"""zlib (RFC 1950) with an absolute output cap and a "stream ended, nothing trailing" rule."""

from __future__ import annotations

from typing import cast

from zlib_ng import zlib_ng

from ..errors import DecompressionFailed, LimitExceeded

_ZlibError = cast("type[Exception]", zlib_ng.error)  # the stubs type it as an instance
_ZLIB_WBITS = 15  # zlib header and Adler-32 trailer only: no gzip, no raw DEFLATE


def compress(data: bytes, level: int = 9) -> bytes:
    """zlib-compress ``data`` (level 9 by default: QR space is worth more than CPU)."""
    compressed: bytes = zlib_ng.compress(data, level)
    return compressed


def decompress(data: bytes, max_output: int) -> bytes:
    """Inflate exactly one zlib stream of at most ``max_output`` bytes.

    Never allocates more than ``max_output`` (+1) bytes, whatever the stream claims, so a zlib
    bomb costs nothing. Raises :class:`LimitExceeded` past the cap and
    :class:`DecompressionFailed` for a corrupt, truncated or gzip/raw stream, a preset
    dictionary, or bytes after the end of the stream.
    """
    inflater = zlib_ng.decompressobj(_ZLIB_WBITS)
    try:
        out: bytes = inflater.decompress(data, max_output + 1)
    except _ZlibError as exc:
        raise DecompressionFailed(f"not a valid zlib stream ({exc})") from None
    if len(out) > max_output:
        raise LimitExceeded(f"inflated data exceeds the {max_output}-byte cap")
    if not inflater.eof:
        raise DecompressionFailed("zlib stream is truncated (no end of stream)")
    if inflater.unused_data:
        raise DecompressionFailed(f"{len(inflater.unused_data)} bytes follow the zlib stream")
    return out
