"""Base45 (RFC 9285) with every section 6 reject and no whitespace stripping.

Encoding uses the ``base45`` package; decoding is strict and fast (it is on the verify path).
"""

from __future__ import annotations

import struct

import base45 as _base45

from ..errors import Base45DecodingFailed

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
_TABLE = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256))


def b45encode(data: bytes) -> str:
    """Encode bytes as Base45 text."""
    encoded: bytes = _base45.b45encode(bytes(data))
    return encoded.decode("ascii")


def b45decode(text: str) -> bytes:
    """Decode Base45 text; raise :class:`Base45DecodingFailed` on any RFC 9285 violation.

    Rejects characters outside the 45-symbol alphabet (lowercase, whitespace and newlines
    included), a length of 1 modulo 3, and any triplet above 65535 or final pair above 255.
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise Base45DecodingFailed(f"non-ASCII character at position {exc.start}") from None
    except AttributeError:
        raise Base45DecodingFailed("Base45 input must be text") from None
    length = len(raw)
    if length % 3 == 1:
        raise Base45DecodingFailed(f"length {length} is not a valid Base45 length (mod 3 == 1)")
    values = raw.translate(_TABLE)
    bad = values.find(_INVALID)
    if bad >= 0:
        raise Base45DecodingFailed(f"character {text[bad]!r} at position {bad} is not in the alphabet")
    full = length - length % 3
    words = [
        c + 45 * d + 2025 * e for c, d, e in zip(values[0:full:3], values[1:full:3], values[2:full:3], strict=True)
    ]
    if words and max(words) > 0xFFFF:
        position = 3 * next(i for i, w in enumerate(words) if w > 0xFFFF)
        raise Base45DecodingFailed(f"triplet at position {position} exceeds 65535")
    out = struct.pack(f">{len(words)}H", *words)
    if full != length:
        last = values[full] + 45 * values[full + 1]
        if last > 0xFF:
            raise Base45DecodingFailed(f"final pair at position {full} exceeds 255")
        out += bytes((last,))
    return out
