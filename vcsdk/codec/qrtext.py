"""The QR text envelope: ``PREFIX + Base45(zlib(COSE bytes))``."""

from __future__ import annotations

from ..errors import InvalidSchemePrefix, LimitExceeded, UsageError
from ..limits import Limits
from . import base45, deflate


def pack(cose: bytes, prefix: str) -> str:
    """Compress, Base45-encode and prefix COSE bytes."""
    return prefix + base45.b45encode(deflate.compress(cose))


def as_text(data: str | bytes) -> str:
    """Accept a QR text as ``str`` or as the raw bytes a scanner returns."""
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data).decode("latin-1")
    raise UsageError(f"a QR text must be str or bytes, not {type(data).__name__}")


def unpack(text: str, prefix: str, limits: Limits) -> bytes:
    """Undo :func:`pack`, checking the DESIGN section 4 steps in order.

    ``LIMIT_EXCEEDED`` (text too long), ``INVALID_SCHEME_PREFIX``, ``BASE45_DECODING_FAILED``,
    ``DECOMPRESSION_FAILED`` or ``LIMIT_EXCEEDED`` (inflated size).
    """
    if len(text) > limits.max_text_chars:
        raise LimitExceeded(f"QR text of {len(text)} characters exceeds {limits.max_text_chars}")
    if not text.startswith(prefix):
        shown = text[: len(prefix)]
        raise InvalidSchemePrefix(f"expected prefix {prefix!r}, got {shown!r}")
    return deflate.decompress(base45.b45decode(text[len(prefix) :]), limits.max_inflated_bytes)
