"""W3C Bitstring Status List (VC Bitstring Status List v1.0) ``encodedList`` codec.

Deliberately separate from the IETF codec: here entry 0 is the **most** significant bit of the
first byte (IETF: least significant), the bitstring is **gzip**-compressed (IETF: zlib), and the
text is multibase base64url without padding (prefix ``u``). Entries are ``status_size`` bits.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable

from zlib_ng import zlib_ng

from ..errors import ClaimsInvalid, DecompressionFailed, LimitExceeded, UsageError
from ..limits import DEFAULT_LIMITS, Limits

MIN_ENTRIES = 131_072  # the W3C specification's minimum bitstring length (16 KB)
_GZIP_WBITS = 31


def encode(values: Iterable[int], status_size: int = 1, *, min_entries: int = MIN_ENTRIES) -> str:
    """``encodedList`` for ``values`` (index 0 first), padded with zeros to ``min_entries``."""
    listed = list(values)
    if status_size < 1 or status_size > 8:
        raise UsageError("status_size must be 1 to 8 bits")
    count = max(len(listed), min_entries)
    bits = bytearray((count * status_size + 7) // 8)
    limit = 1 << status_size
    for idx, value in enumerate(listed):
        if not 0 <= value < limit:
            raise UsageError(f"status value {value} does not fit in {status_size} bits")
        for bit in range(status_size):  # the value's most significant bit first
            if value >> (status_size - 1 - bit) & 1:
                position = idx * status_size + bit
                bits[position >> 3] |= 0x80 >> (position & 7)
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode(encoded: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The raw bitstring of an ``encodedList`` (gunzip capped at ``max_status_list_bytes``)."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ClaimsInvalid("encodedList must be multibase base64url (prefix 'u')")
    body = encoded[1:]
    if "=" in body:
        raise ClaimsInvalid("encodedList must not be padded")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise ClaimsInvalid("encodedList is not base64url") from None
    inflater = zlib_ng.decompressobj(_GZIP_WBITS)
    try:
        out: bytes = inflater.decompress(compressed, limits.max_status_list_bytes + 1)
    except Exception as exc:  # zlib_ng.error; the stubs do not type it as an exception class
        raise DecompressionFailed(f"encodedList is not gzip ({exc})") from None
    if len(out) > limits.max_status_list_bytes:
        raise LimitExceeded(f"bitstring exceeds {limits.max_status_list_bytes} bytes")
    if not inflater.eof or inflater.unused_data:
        raise DecompressionFailed("encodedList is not exactly one complete gzip member")
    return out


def get(bitstring: bytes, idx: int, status_size: int = 1) -> int:
    """The value of entry ``idx`` (MSB-first)."""
    if idx < 0 or (idx + 1) * status_size > len(bitstring) * 8:
        raise IndexError(f"index {idx} is outside the bitstring")
    value = 0
    for bit in range(status_size):
        position = idx * status_size + bit
        value = value << 1 | (bitstring[position >> 3] >> (7 - (position & 7)) & 1)
    return value
