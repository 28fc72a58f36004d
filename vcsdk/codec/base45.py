"""Base45 (RFC 9285) with every section 6 reject and no whitespace stripping.

Encoding maps each 2-byte word through a 65,536-entry table (built on first use); decoding is
strict and fast (it is on the verify path).
"""

from __future__ import annotations

import struct
from functools import cache

from ..errors import Base45DecodingFailed

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
_TABLE = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256))


@cache
def _word_table() -> tuple[str, ...]:
    """The three Base45 characters of every 16-bit word n: n % 45, n // 45 % 45, n // 2025."""
    pairs = [a + b for b in ALPHABET for a in ALPHABET]  # index n % 2025 -> its two low characters
    return tuple(pairs[n % 2025] + ALPHABET[n // 2025] for n in range(0x10000))


def b45encode(data: bytes | bytearray | memoryview) -> str:
    """Encode bytes as Base45 text (RFC 9285 section 4)."""
    raw = bytes(data)
    full = len(raw) & ~1
    words = struct.unpack(f">{full // 2}H", raw[:full])  # RFC 9285 reads each pair big-endian
    text = "".join(map(_word_table().__getitem__, words))
    if full != len(raw):
        last = raw[full]
        text += ALPHABET[last % 45] + ALPHABET[last // 45]
    return text


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
    out = _decode_triplets(values[0:full:3], values[1:full:3], values[2:full:3])
    if full != length:
        last = values[full] + 45 * values[full + 1]
        if last > 0xFF:
            raise Base45DecodingFailed(f"final pair at position {full} exceeds 255")
        out += bytes((last,))
    return out


_E_EDGE = 32  # a triplet c + 45d + 2025e exceeds 65535 iff e > 32, or e == 32 and c + 45d > 735
_CD_MAX_AT_EDGE = 0xFFFF - 2025 * _E_EDGE
_BELOW_EDGE = bytes(range(_E_EDGE))


def _decode_triplets(c: bytes, d: bytes, e: bytes) -> bytes:
    """Decode all full triplets at C speed.

    The 16-bit words w_k = c_k + 45 d_k + 2025 e_k, written big-endian one after another, are
    the big integer C + 45 D + 2025 E, where C (D, E) is c (d, e) spread into 2-byte slots. Once
    every w_k is known to be <= 65535 no carry crosses a slot, so three ``int.from_bytes``
    calls and one ``to_bytes`` replace a Python loop over the triplets.
    """
    words = len(c)
    if not words:
        return b""
    high_digits = e.translate(None, _BELOW_EDGE)  # the e_k >= 32, at C speed; usually few
    if high_digits:
        if high_digits.count(_E_EDGE) != len(high_digits):
            over = next(i for i, v in enumerate(e) if v > _E_EDGE)
            raise Base45DecodingFailed(f"triplet at position {3 * over} exceeds 65535")
        at = e.find(_E_EDGE)
        while at >= 0:
            if c[at] + 45 * d[at] > _CD_MAX_AT_EDGE:
                raise Base45DecodingFailed(f"triplet at position {3 * at} exceeds 65535")
            at = e.find(_E_EDGE, at + 1)
    slots = bytearray(2 * words)
    slots[1::2] = c
    low = int.from_bytes(slots, "big")
    slots[1::2] = d
    middle = int.from_bytes(slots, "big")
    slots[1::2] = e
    high = int.from_bytes(slots, "big")
    return (low + 45 * middle + 2025 * high).to_bytes(2 * words, "big")
