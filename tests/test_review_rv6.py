"""Review rv6 of the two-lane point checks, the joined batch entry point, the presentation batch
path and the rewritten verdict template: a regression for what broke, and the adversarial cases
that held, pinned so that they keep holding.

Broke (fixed): :func:`verdict_text` read a dict subclass through its own ``__iter__`` and
``values()`` while ``json.dumps`` reads its ``items()``: a subclass that iterates, or gives its
values, otherwise than its items got a line that was not ``json.dumps``'s (fields swapped or
replaced). Only a plain dict takes the template now.

Held: ``vcb_are_valid_points`` (two lanes at a time) against libsodium for every pair of kinds,
the same encoding in both lanes and a failed lane beside a good one; ``vcb_verify`` and
``vcb_verify_joined`` marks on batches mixing torsion keys and R that libsodium accepts or
rejects, small-order and non-canonical encodings, S + L, duplicate keys and duplicate items: a mark
only where PyNaCl accepts; ``check_many`` over presentations (valid, replayed, bad device or issuer
signature, duplicates, a presentation and its bare credential) equal to ``check`` one by one and
to the reference :class:`Verifier`."""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator
from typing import Any

import nacl.bindings as sodium
import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import ed25519_math as em
from tests.conftest import NOW, SEED, reference_claims
from vcsdk import DEFAULT_LIMITS, Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import qrtext
from vcsdk.gate.loop import _LINE_KEYS, verdict_text
from vcsdk.holder import make_key_proof, present, verify_key_proof
from vcsdk.holder.presentation import PRESENTATION_PREFIX, credential_bytes
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify import FastVerifier
from vcsdk.verify.presentation import HolderBinding, PresentationGuard

# ---------------------------------------------------------------------- broke: verdict_text

_USUAL: dict[str, Any] = {
    "valid": True,
    "code": "VALID",
    "message": "credential is valid",
    "kid": "00112233",
    "claims": {"name": "김민준"},
    "source": "stdin:1",
    "at": "2026-12-07T00:00:00Z",
    "latency_ms": 1.25,
}


class _IteratesInLineOrder(dict):  # type: ignore[type-arg]
    """Stored in another order, iterated in the verdict line's key order."""

    def __iter__(self) -> Iterator[Any]:
        return iter(_LINE_KEYS)


class _RedactedItems(dict):  # type: ignore[type-arg]
    """json.dumps reads a dict subclass through ``items()``."""

    def items(self) -> Any:
        return [(key, "redacted") for key in dict.keys(self)]


class _OwnValues(dict):  # type: ignore[type-arg]
    def values(self) -> Any:
        return [False, *list(dict.values(self))[1:]]


def test_verdict_text_of_a_dict_subclass_is_json_dumps() -> None:
    swapped = _IteratesInLineOrder()
    for key in ("valid", "message", "code", "kid", "claims", "source", "at", "latency_ms"):  # code after message
        swapped[key] = key.upper() if key in ("code", "message") else _USUAL[key]
    for line in (swapped, _RedactedItems(_USUAL), _OwnValues(_USUAL)):
        assert verdict_text(line) == json.dumps(line, ensure_ascii=False) + "\n", type(line).__name__


class _Str(str):
    __slots__ = ()


class _Float(float):
    def __repr__(self) -> str:
        return "1.0e0"


_ODD_TEXT = st.text(max_size=12) | st.sampled_from(["\ud800", "\udfff", "a\ud83d", '"\\', "\u2028", "\x00"])
_ANY_VALUE = st.one_of(
    _ODD_TEXT,
    _ODD_TEXT.map(_Str),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN, infinities, -0.0
    st.floats().map(_Float),
    st.dictionaries(_ODD_TEXT, _ODD_TEXT, max_size=3),
    st.dictionaries(_ODD_TEXT.map(_Str) | st.integers() | st.booleans() | st.none(), _ODD_TEXT, max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(
    values=st.fixed_dictionaries(dict.fromkeys(_LINE_KEYS, _ANY_VALUE)),
    usual=st.sets(st.sampled_from(_LINE_KEYS)),
    shape=st.sampled_from(["plain", "reversed", "extra", "missing"]),
)
def test_verdict_text_is_json_dumps_for_any_values(values: dict[str, Any], usual: set[str], shape: str) -> None:
    line = {key: _USUAL[key] if key in usual else values[key] for key in _LINE_KEYS}
    if shape == "reversed":
        line = dict(reversed(line.items()))
    elif shape == "extra":
        line["extra"] = 1
    elif shape == "missing":
        del line["at"]
    try:
        expected = json.dumps(line, ensure_ascii=False) + "\n"
    except (TypeError, ValueError):
        return
    assert verdict_text(line) == expected


def test_verdict_text_floats() -> None:
    for latency in (-0.0, 0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, math.pi):
        line = {**_USUAL, "latency_ms": latency}
        assert verdict_text(line) == json.dumps(line, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------- held: the C point checks


@pytest.fixture(scope="module")
def lib(batch_module: Any) -> Any:
    return batch_module


TORSION = [em.mul(k, em.torsion_point()) for k in range(8)]
_TORSION_ENC = [em.encode(t) for t in TORSION]


def _kinds(rng: random.Random) -> dict[str, Any]:
    def prime() -> bytes:
        scalar = sodium.crypto_core_ed25519_scalar_reduce(rng.randbytes(64))
        return bytes(sodium.crypto_scalarmult_ed25519_base_noclamp(scalar))

    def on_curve() -> bytes:
        while True:
            y, sign = rng.randrange(em.P), rng.randrange(2)
            if em.recover_x(y, sign) is not None:
                return (y | sign << 255).to_bytes(32, "little")

    def flipped() -> bytes:
        raw = bytearray(prime())
        raw[31] ^= 0x80
        return bytes(raw)

    return {
        "prime": prime,
        "torsion": lambda: bytes(sodium.crypto_core_ed25519_add(prime(), rng.choice(_TORSION_ENC[1:]))),
        "on the curve": on_curve,
        "random": lambda: rng.randbytes(32),
        "small order": lambda: rng.choice(em.small_order_encodings()),
        "y >= p": lambda: (em.P + rng.randrange(19) | rng.randrange(2) << 255).to_bytes(32, "little"),
        "-0": lambda: rng.choice([bytes(31) + b"\x80", (1 | 1 << 255).to_bytes(32, "little")]),
        "y = p - 1": lambda: (em.P - 1 | rng.randrange(2) << 255).to_bytes(32, "little"),
        "negated": flipped,
    }


def _two_lanes(module: Any, encodings: list[bytes]) -> list[bool]:
    out = module.ffi.new("unsigned char[]", max(len(encodings), 1))
    assert module.lib.vcb_are_valid_points(len(encodings), b"".join(encodings), out) == 0
    return [bool(out[i]) for i in range(len(encodings))]


def test_two_lanes_every_pair_the_same_point_twice_and_failed_neighbours(lib: Any) -> None:
    rng = random.Random(606)
    kinds = _kinds(rng)
    for first in kinds.values():
        for second in kinds.values():
            for _ in range(4):
                x, y = first(), second()
                for encodings in ([x, y], [y, x], [x, x], [x, y, x]):
                    expected = [bool(sodium.crypto_core_ed25519_is_valid_point(e)) for e in encodings]
                    assert _two_lanes(lib, encodings) == expected, [e.hex() for e in encodings]
                    assert [bool(lib.lib.vcb_is_valid_point(e)) for e in encodings] == expected


# ---------------------------------------------------------------------- held: vcb_verify marks

_SEEDS = [bytes([i + 1]) * 32 for i in range(4)]


def _libsodium(item: tuple[bytes, bytes, bytes]) -> bool:
    key, message, signature = item
    try:
        nacl.signing.VerifyKey(key).verify(message, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def _item(rng: random.Random) -> tuple[bytes, bytes, bytes]:
    seed = rng.choice(_SEEDS)
    message = rng.randbytes(rng.randrange(0, 48))
    key = bytes(nacl.signing.SigningKey(seed).verify_key)
    signature = nacl.signing.SigningKey(seed).sign(message).signature
    kind = rng.randrange(11)
    a, _ = em.secret_scalar(seed)
    if kind == 1:
        message += b"!"
    elif kind == 2:  # S + L
        signature = signature[:32] + (int.from_bytes(signature[32:], "little") + em.L).to_bytes(32, "little")
    elif kind == 3:
        signature = rng.choice(em.small_order_encodings()) + signature[32:]
    elif kind == 4:
        key = rng.choice(em.small_order_encodings())
    elif kind == 5:  # R with torsion of any order (none for k = 0)
        signature = em.sign_with_r(seed, message, rng.randrange(1, em.L), rng.choice(TORSION))
    elif kind in (6, 7):  # a key with torsion; R with the torsion that cancels (libsodium accepts) or not
        t = rng.randrange(1, 8)
        key = em.encode(em.add(em.mul(a, em.B), TORSION[t]))
        r, j = rng.randrange(1, em.L), rng.randrange(8)
        big_r = em.encode(em.add(em.mul(r, em.B), TORSION[j]))
        h = int.from_bytes(hashlib.sha512(big_r + key + message).digest(), "little") % em.L
        signature = big_r + ((r + h * a) % em.L).to_bytes(32, "little")
    elif kind == 8:  # the same point's other sign: the negated R or key
        raw = bytearray(signature)
        raw[31] ^= 0x80
        signature = bytes(raw)
    elif kind == 9:
        key, signature = rng.randbytes(32), rng.randbytes(64)
    elif kind == 10:  # a good R, a wrong S
        signature = signature[:32] + ((int.from_bytes(signature[32:], "little") + 1) % em.L).to_bytes(32, "little")
    return key, message, signature


def _marks(module: Any, items: list[tuple[bytes, bytes, bytes]], joined: bool) -> list[int]:
    ffi, n = module.ffi, len(items)
    ok = ffi.new("unsigned char[]", n)
    lengths = ffi.new("size_t[]", [len(m) for _, m, _ in items])
    signatures, keys = b"".join(s for _, _, s in items), b"".join(k for k, _, _ in items)
    if joined:
        messages = b"".join(m for _, m, _ in items)
        count = module.lib.vcb_verify_joined(n, messages, len(messages), lengths, signatures, keys, ok)
    else:
        buffers = [ffi.from_buffer(m) for _, m, _ in items]
        count = module.lib.vcb_verify(n, ffi.new("const unsigned char *[]", buffers), lengths, signatures, keys, ok)
    marks = [ok[i] for i in range(n)]
    assert count == sum(marks)
    return marks


def test_batch_marks_only_what_libsodium_accepts(lib: Any) -> None:
    rng = random.Random(6)
    accepted_unmarked = accepted = 0
    for size in (1, 2, 3, 5, 16, 33, 64, 65, 129, 256):
        base = [_item(rng) for _ in range(12)]
        for mostly_valid in (False, True):
            items = []
            for _ in range(size):
                if mostly_valid and rng.random() < 0.9:
                    seed, message = rng.choice(_SEEDS), rng.randbytes(8)
                    signer = nacl.signing.SigningKey(seed)
                    items.append((bytes(signer.verify_key), message, signer.sign(message).signature))
                else:
                    items.append(rng.choice(base) if rng.random() < 0.3 else _item(rng))  # duplicates too
            for joined in (False, True):
                for item, mark in zip(items, _marks(lib, items, joined), strict=True):
                    good = _libsodium(item)
                    assert good or not mark, [part.hex() for part in item]
                    accepted += good
                    accepted_unmarked += good and not mark
    assert accepted_unmarked < accepted  # the batch proves most good signatures where they are dense


# ---------------------------------------------------------------------- held: presentations in batches

ISSUER = Ed25519PrivateKey(SEED)
PHONE = Ed25519PrivateKey(bytes(range(100, 132)))
THIEF = Ed25519PrivateKey(bytes(range(200, 232)))
URI = "https://id.mois.go.kr/sl/7"
GATE = "seoul-gov-complex-east-3"
T = NOW + 1000


def _issue(idx: int, bound: bool) -> str:
    proof = None
    if bound:
        raw = make_key_proof(PHONE, audience="https://id.mois.go.kr", nonce="n-1", issued_at=NOW)
        proof = verify_key_proof(raw, audience="https://id.mois.go.kr", now=NOW)
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW))
    return issuer.issue(reference_claims(), status=StatusReference(idx, URI), holder=proof).qr_text


def _verifier(binding: HolderBinding) -> Verifier:
    checker = StatusListChecker(TrustStore([ISSUER.public_key]))
    checker.load(sign_token(pack([0, 0, 1, 0], 2), URI, ISSUER, issued_at=T - 60), T)
    return Verifier(
        [ISSUER.public_key],
        clock=fixed_clock(T),
        status=checker,
        presentations=PresentationGuard(GATE),
        holder_binding=binding,
    )


def _flipped(data: bytes, rng: random.Random) -> bytes:
    raw = bytearray(data)
    raw[len(raw) - 1 - rng.randrange(64)] ^= 1 << rng.randrange(8)  # in the signature
    return bytes(raw)


def test_check_many_over_presentations_equals_check_one_by_one(lib: Any) -> None:
    rng = random.Random(66)
    bound, unbound, revoked = _issue(0, True), _issue(1, False), _issue(2, True)
    device_forged = qrtext.pack(
        _flipped(qrtext.unpack(present(bound, PHONE, now=T - 9), PRESENTATION_PREFIX, DEFAULT_LIMITS), rng),
        PRESENTATION_PREFIX,
    )
    issuer_forged = _flipped(credential_bytes(bound), rng)
    pool = [
        *(present(bound, PHONE, now=T - rng.randrange(40)) for _ in range(4)),
        present(bound, THIEF, now=T - 3),
        present(unbound, PHONE, now=T - 4),
        present(revoked, PHONE, now=T - 5),
        present(bound, PHONE, now=T - 500),
        present(issuer_forged, PHONE, now=T - 6),
        device_forged,
        bound,
        unbound,
        qrtext.pack(issuer_forged, "GID1:"),
    ]
    for trial in range(40):
        binding = rng.choice(list(HolderBinding))
        cache_size = rng.choice([0, 1, 4096])
        batched = FastVerifier(_verifier(binding), compiled=True, cache_size=cache_size)
        single = FastVerifier(_verifier(binding), compiled=True, cache_size=cache_size)
        reference = _verifier(binding)
        warm = rng.sample(pool, rng.randrange(3))  # some inner credentials cached, some presentations replayed
        for gate in (batched, single, reference):
            for text in warm:
                gate.check(text, T)
        texts = [rng.choice(pool) for _ in range(rng.randrange(2, 24))]
        got = batched.check_many(texts, T)
        assert got == [single.check(text, T) for text in texts], trial
        assert got == [reference.check(text, T) for text in texts], trial
