"""The batch verifier's prime-order-subgroup test (``vcb_is_valid_point`` in
``vcsdk/_native/batch25519.c``: a Tate-pairing symbol for E/4E and one point halving, no
multiplication by L) gives exactly libsodium's ``crypto_core_ed25519_is_valid_point`` answers:
random prime-order points plus each of the eight torsion points (true only without torsion), every
branch of the halving, random encodings, every small-order and non-canonical encoding, and the
points with x = 0 or y = 0."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import nacl.bindings as sodium
import pytest

from tests import ed25519_math as em

P = em.P
TORSION = [em.encode(em.mul(k, em.torsion_point())) for k in range(8)]
"""T_k = [k] T8 for a point T8 of order 8: T_0 is the identity, T_4 has order 2, T_2 and T_6 order 4."""


@pytest.fixture(scope="module")
def lib(batch_module: Any) -> Any:
    return batch_module.lib


def _mine(lib: Any, encoding: bytes) -> bool:
    answer = lib.vcb_is_valid_point(encoding)
    assert answer in (0, 1)
    return bool(answer)


def _libsodium(encoding: bytes) -> bool:
    return bool(sodium.crypto_core_ed25519_is_valid_point(encoding))


def _prime_order_point(rng: random.Random) -> bytes:
    scalar = sodium.crypto_core_ed25519_scalar_reduce(rng.randbytes(64))
    return sodium.crypto_scalarmult_ed25519_base_noclamp(scalar)


def test_torsion_is_of_the_expected_orders() -> None:
    orders = []
    for t in TORSION:
        point = em.decode(t)
        assert point is not None
        orders.append(next(n for n in (1, 2, 4, 8) if em.equal(em.mul(n, point), em.IDENTITY)))
    assert orders == [1, 8, 4, 8, 2, 8, 4, 8]


def test_prime_order_points_plus_every_torsion_point(lib: Any) -> None:
    """P + T_k is valid exactly for k = 0, for thousands of random P of prime order."""
    rng = random.Random(2026)
    for _ in range(2500):
        point = _prime_order_point(rng)
        for k, torsion in enumerate(TORSION):
            shifted = sodium.crypto_core_ed25519_add(point, torsion) if k else point
            assert _libsodium(shifted) is (k == 0)
            assert _mine(lib, shifted) is (k == 0), (point.hex(), k)


def _halving_branch(encoding: bytes) -> int:
    """Which root the C code's halving of a point of 2E takes: 1 when (s + 1) y / (s + y) is a
    square for s = sqrt(1 + x^2) as sqrt_ratio computes it, else 2 or 3 (v r^2 = i u or -i u)."""
    point = em.decode(encoding)
    assert point is not None
    x, y = point[0], point[1]

    def sqrt_ratio(u: int, v: int) -> tuple[int, int]:
        r = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
        check = v * r * r % P
        if check == u % P:
            return 1, r
        if check == -u % P:
            return 1, r * em.SQRT_M1 % P
        return (2 if check == u * em.SQRT_M1 % P else 3), r

    branch, s = sqrt_ratio(1 + x * x, 1)
    assert branch == 1  # (a point of 2E)
    return sqrt_ratio((s + 1) * y, s + y)[0]


def test_every_branch_of_the_halving(lib: Any) -> None:
    """Points of prime order that take each of the halving's three roots, with every torsion
    point added (a wrong constant in one branch would show here, whatever the random mix)."""
    rng = random.Random(8)
    found: dict[int, list[bytes]] = {1: [], 2: [], 3: []}
    while min(len(points) for points in found.values()) < 5:
        point = _prime_order_point(rng)
        found[_halving_branch(point)].append(point)
    for points in found.values():
        for point in points[:5]:
            for k, torsion in enumerate(TORSION):
                shifted = sodium.crypto_core_ed25519_add(point, torsion) if k else point
                assert _mine(lib, shifted) is _libsodium(shifted) is (k == 0)


def test_random_encodings(lib: Any) -> None:
    """Random 32-byte strings (about half decode, to points of any order) and random points of the
    whole group E = Z/8 x Z/L, in both sign-bit variants."""
    rng = random.Random(45)
    decoded = 0
    for _ in range(3000):
        encoding = rng.randbytes(32)
        decoded += em.decode(encoding) is not None
        assert _mine(lib, encoding) is _libsodium(encoding), encoding.hex()
        flipped = encoding[:31] + bytes([encoding[31] ^ 0x80])
        assert _mine(lib, flipped) is _libsodium(flipped), flipped.hex()
    assert 1200 < decoded < 1800
    valid = 0
    for _ in range(2000):
        point = _prime_order_point(rng)
        shifted = sodium.crypto_core_ed25519_add(point, rng.choice(TORSION))
        valid += _libsodium(shifted)
        assert _mine(lib, shifted) is _libsodium(shifted)
    assert 150 < valid < 350  # a random point of E is of prime order one time in eight


def test_small_order_non_canonical_and_edge_encodings(lib: Any) -> None:
    """Every encoding of a point of order 1, 2, 4 or 8 (canonical or not, either sign bit), every
    non-canonical y (y >= p) with either sign, the identity, and the points with x = 0 or y = 0
    (which are all of small order); all refused, as libsodium refuses them."""
    edge = list(em.small_order_encodings())
    for y in range(P, 2**255):
        for sign in (0, 1):
            edge.append((y | sign << 255).to_bytes(32, "little"))
    for y in (0, 1, P - 1):  # y = 0: x = +-sqrt(-1), order 4; y = +-1: x = 0, orders 1 and 2
        for sign in (0, 1):
            edge.append((y | sign << 255).to_bytes(32, "little"))
    edge.append(bytes(32))
    edge.append(b"\xff" * 32)
    assert em.encode(em.IDENTITY) in edge
    for encoding in edge:
        assert not _libsodium(encoding), encoding.hex()
        assert not _mine(lib, encoding), encoding.hex()
    # small y values (the only ones that have a non-canonical twin): canonical ones as libsodium says
    agreed = 0
    for y in range(2, 19):
        for sign in (0, 1):
            encoding = (y | sign << 255).to_bytes(32, "little")
            assert _mine(lib, encoding) is _libsodium(encoding)
            agreed += 1
    assert agreed == 34


def test_the_base_point_and_its_multiples(lib: Any) -> None:
    base = em.encode(em.B)
    assert _mine(lib, base) and _libsodium(base)
    for k in (2, 3, 8, em.L - 1):
        multiple = em.encode(em.mul(k, em.B))
        assert _mine(lib, multiple) and _libsodium(multiple)


def test_two_lanes_at_a_time_give_the_same_answers(lib: Any) -> None:
    """``vcb_are_valid_points`` runs the checks two at a time (each exponentiation of two lanes
    interleaved), as ``vcb_verify`` checks keys and R: every pairing of kinds (valid, torsion of
    each order, off the curve, non-canonical, small order) in both lanes, and odd lengths, gives
    libsodium's answer for each encoding, whatever its neighbour."""
    from cffi import FFI

    rng = random.Random(17)
    kinds: list[Callable[[], bytes]] = [
        lambda: _prime_order_point(rng),
        lambda: sodium.crypto_core_ed25519_add(_prime_order_point(rng), rng.choice(TORSION[1:])),
        lambda: rng.randbytes(32),  # mostly off the curve
        lambda: rng.choice(TORSION),  # small order
        lambda: (P + rng.randrange(19)).to_bytes(32, "little"),  # y >= p: not canonical
        lambda: bytes(31) + b"\x80",  # x = 0 with the sign bit: refused
    ]
    ffi = FFI()
    for length in (0, 1, 2, 3, 7, 64, 257, 512):
        encodings = [rng.choice(kinds)() for _ in range(length)]
        out = ffi.new("unsigned char[]", max(length, 1))
        assert lib.vcb_are_valid_points(length, b"".join(encodings), out) == 0
        assert [bool(out[i]) for i in range(length)] == [_libsodium(e) for e in encodings]
    for first in kinds:  # every pair of kinds, in both orders
        for second in kinds:
            pair = [first(), second()]
            out = ffi.new("unsigned char[]", 2)
            assert lib.vcb_are_valid_points(2, b"".join(pair), out) == 0
            assert [bool(out[0]), bool(out[1])] == [_libsodium(e) for e in pair]
    assert lib.vcb_are_valid_points(513, bytes(32 * 513), ffi.new("unsigned char[]", 513)) == -1
