"""Plain-integer edwards25519 arithmetic (RFC 8032) for crafting test signatures: small-order and
non-canonical points, S >= L, and signer-made signatures whose R carries a torsion component.
Slow and variable-time: tests only."""

from __future__ import annotations

import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # extended (X, Y, Z, T)
IDENTITY: Point = (0, 1, 1, 0)


def add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def mul(k: int, p: Point) -> Point:
    result = IDENTITY
    while k:
        if k & 1:
            result = add(result, p)
        p = add(p, p)
        k >>= 1
    return result


def neg(p: Point) -> Point:
    return (-p[0] % P, p[1], p[2], -p[3] % P)


def encode(p: Point) -> bytes:
    zi = pow(p[2], P - 2, P)
    x, y = p[0] * zi % P, p[1] * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def recover_x(y: int, sign: int) -> int | None:
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


def decode(s: bytes) -> Point | None:
    value = int.from_bytes(s, "little")
    y, sign = value & ((1 << 255) - 1), value >> 255
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


B: Point = decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))  # type: ignore[assignment]


def equal(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def torsion_point() -> Point:
    """A generator of the 8-torsion subgroup (a point of order exactly 8)."""
    for y in range(2, 1000):
        p = decode(y.to_bytes(32, "little"))
        if p is None:
            continue
        t = mul(L, p)  # kill the prime-order part
        if not equal(mul(4, t), IDENTITY):
            return t
    raise AssertionError("no point of order 8 found")


def small_order_encodings() -> list[bytes]:
    """Every encoding (canonical or not, either sign bit) of a point of order 1, 2, 4 or 8."""
    t = torsion_point()
    found: set[bytes] = set()
    for k in range(8):
        enc = bytearray(encode(mul(k, t)))
        found.add(bytes(enc))
        enc[31] ^= 0x80  # the other sign bit (for x = 0 a non-canonical "negative zero")
        found.add(bytes(enc))
        y = int.from_bytes(encode(mul(k, t)), "little") & ((1 << 255) - 1)
        if y + P < 2**255:  # a non-canonical encoding of the same y
            for sign in (0, 1):
                found.add((y + P | (sign << 255)).to_bytes(32, "little"))
    return sorted(found)


def secret_scalar(seed: bytes) -> tuple[int, bytes]:
    """(a, prefix) of an RFC 8032 private key ``seed``."""
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, digest[32:]


def public_key(seed: bytes) -> bytes:
    return encode(mul(secret_scalar(seed)[0], B))


def sign_with_r(seed: bytes, message: bytes, r: int, extra: Point = IDENTITY) -> bytes:
    """A signature whose R is [r]B + ``extra`` and whose S = r + h a: what only the key holder can
    make. With ``extra`` a torsion point, libsodium's cofactorless check rejects it."""
    a, _ = secret_scalar(seed)
    big_r = encode(add(mul(r, B), extra))
    h = int.from_bytes(hashlib.sha512(big_r + encode(mul(a, B)) + message).digest(), "little") % L
    return big_r + ((r + h * a) % L).to_bytes(32, "little")
