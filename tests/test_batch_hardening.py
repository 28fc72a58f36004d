"""Hostile cases for the Ed25519 batch verifier: regressions for what broke, and the adversarial
cases that held, pinned so that they keep holding.

Broke (fixed): ``verify_batch`` raised ``TypeError`` on items that are not three
``bytes`` (a bytearray, a str) instead of giving :func:`verify_single`'s verdict; the C batch
put 66 KB of digits on the C stack, so a thread with a small stack (musl's default 128 KB,
``threading.stack_size``) crashed with SIGSEGV inside ``vcb_verify``.

Held: a key and an ``R`` that both carry torsion and that libsodium accepts (the torsion parts
cancel in its cofactorless equation), in repeated batches; issuer-made and device-made
signatures whose ``R`` carries torsion of every order, small-order ``R`` and ``S + L``, through
``check_many`` against the reference :class:`Verifier`'s codes."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import nacl.signing
import pytest

from tests import ed25519_math as em
from tests.conftest import NATIVE_SKIP, NOW, REQUIRE_NATIVE, ROOT, SEED, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.holder import make_key_proof, present, verify_key_proof
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify import FastVerifier, batch
from vcsdk.verify.batch import Triple, proven, verify_batch, verify_single

SIGNER = nacl.signing.SigningKey(bytes([9]) * 32)
TORSION = [em.mul(k, em.torsion_point()) for k in range(8)]


@pytest.fixture
def native(lane: bool) -> Iterator[bool]:
    """Both lanes: compiled (the batch proves what it can) and pure (nothing proven)."""
    if lane and not batch.native_available():
        why = f"{NATIVE_SKIP}: the batch verifier vcsdk._native._batch25519 (scripts/bootstrap.sh builds it)"
        if REQUIRE_NATIVE:
            pytest.fail(f"{why}; VCSDK_REQUIRE_NATIVE=1 requires it")
        pytest.skip(why)
    previous = batch.set_native(lane)
    try:
        yield batch.native_enabled()
    finally:
        batch.set_native(previous)


def _valid(n: int, rng: random.Random) -> list[Triple]:
    items = []
    for _ in range(n):
        message = rng.randbytes(rng.randrange(0, 40))
        items.append((bytes(SIGNER.verify_key), message, SIGNER.sign(message).signature))
    return items


# ---------------------------------------------------------------------- regressions


def test_verify_batch_gives_verify_singles_verdict_on_items_that_are_not_bytes(native: bool) -> None:
    """verify_batch promises verify_single's verdict on every item; a bytearray or str part made
    it raise TypeError (unhashable in the proven set, or in b"".join) on both lanes."""
    message = b"not bytes"
    good = (bytes(SIGNER.verify_key), message, SIGNER.sign(message).signature)
    odd: list[Any] = [
        (bytearray(good[0]), good[1], good[2]),
        (good[0], bytearray(good[1]), good[2]),
        (good[0], good[1], bytearray(good[2])),
        ("k" * 32, good[1], good[2]),
        [good[0], good[1], good[2]],
    ]
    for item in odd:
        for items in ([item], [good, item, good]):
            assert verify_batch(items) == [verify_single(*i) for i in items]


def test_batch_verifier_runs_on_a_small_thread_stack() -> None:
    """vcb_verify in a thread with a 64 KiB stack (libsodium's single verify runs in 40 KiB): the
    batch once needed about 100 KiB of C stack whatever the batch size and crashed (SIGSEGV)."""
    if not batch.native_available():
        if REQUIRE_NATIVE:
            pytest.fail(f"{NATIVE_SKIP}; VCSDK_REQUIRE_NATIVE=1 requires it")
        pytest.skip(f"{NATIVE_SKIP}: the batch verifier vcsdk._native._batch25519")
    script = """
import threading
import nacl.signing
from vcsdk.verify.batch import proven
keys = [nacl.signing.SigningKey(i.to_bytes(2, "big") * 16) for i in range(256)]
items = [(bytes(k.verify_key), b"m", k.sign(b"m").signature) for k in keys]
threading.stack_size(64 * 1024)
found = []
for n in (2, 256):
    thread = threading.Thread(target=lambda: found.append(len(proven(items[:n]))))
    thread.start()
    thread.join()
print(found)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["[2,", "256]"]


# ---------------------------------------------------------------------- held


def _torsion_pair(seed: bytes, message: bytes, rng: random.Random) -> Triple | None:
    """A key A + T_a and an R = [r]B + T_r (T_a, T_r of order 2, 4 or 8) with S = r + h a that
    libsodium accepts (T_r = -h T_a: the torsion parts cancel in S B - h (A + T_a)); None when
    this r finds none."""
    a, _ = em.secret_scalar(seed)
    key = em.encode(em.add(em.mul(a, em.B), TORSION[rng.randrange(1, 8)]))
    r = rng.randrange(1, em.L)
    for torsion in TORSION[1:]:
        big_r = em.encode(em.add(em.mul(r, em.B), torsion))
        h = int.from_bytes(hashlib.sha512(big_r + key + message).digest(), "little") % em.L
        item = (key, message, big_r + ((r + h * a) % em.L).to_bytes(32, "little"))
        if verify_single(*item):
            return item
    return None


def test_key_and_r_both_with_torsion_that_libsodium_accepts_get_its_verdict(native: bool) -> None:
    rng = random.Random(16)
    accepted: list[Triple] = []
    while len(accepted) < 6:
        found = _torsion_pair(bytes([len(accepted) + 1]) * 32, b"pair %d" % len(accepted), rng)
        if found is not None:
            accepted.append(found)
    rejected = [(key, message + b"!", signature) for key, message, signature in accepted]
    for size in (1, 2, 63, 64, 65):
        for _ in range(3):
            mix = [*_valid(size, rng), *rng.sample(accepted, 2), *rng.sample(rejected, 2)]
            rng.shuffle(mix)
            assert verify_batch(mix) == [verify_single(*item) for item in mix]
            assert not (set(accepted) | set(rejected)) & proven(mix)


ISSUER = Ed25519PrivateKey(SEED)
URI = "https://id.mois.go.kr/sl/7"


def _crafted_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Credentials and presentations whose issuer or device signature is crafted by the key's
    holder: R with torsion of each order, R of small order, S + L; and valid ones."""
    rng = random.Random(17)
    original = Ed25519PrivateKey.sign
    how: list[Callable[[Ed25519PrivateKey, bytes], bytes] | None] = [None]

    def signing(self: Ed25519PrivateKey, message: bytes) -> bytes:
        craft = how[0]
        return original(self, message) if craft is None else craft(self, message)

    monkeypatch.setattr(Ed25519PrivateKey, "sign", signing)

    def torsion_r(j: int) -> Callable[[Ed25519PrivateKey, bytes], bytes]:
        return lambda key, message: em.sign_with_r(key.seed, message, rng.randrange(1, em.L), TORSION[j])

    def small_r(j: int) -> Callable[[Ed25519PrivateKey, bytes], bytes]:
        return lambda key, message: em.encode(TORSION[j]) + original(key, message)[32:]

    def s_plus_l(key: Ed25519PrivateKey, message: bytes) -> bytes:
        signature = original(key, message)
        return signature[:32] + (int.from_bytes(signature[32:], "little") + em.L).to_bytes(32, "little")

    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    counter = iter(range(1, 1000))

    def credential(craft: Callable[[Ed25519PrivateKey, bytes], bytes] | None, holder: Any = None) -> str:
        how[0] = craft
        try:
            return issuer.issue(reference_claims(), status=StatusReference(next(counter), URI), holder=holder).qr_text
        finally:
            how[0] = None

    def presentation(
        issuer_craft: Callable[[Ed25519PrivateKey, bytes], bytes] | None,
        device_craft: Callable[[Ed25519PrivateKey, bytes], bytes] | None,
    ) -> str:
        i = next(counter)
        phone = Ed25519PrivateKey(bytes([i % 251 + 1]) * 31 + b"\x05")
        proof = make_key_proof(phone, audience="https://id.mois.go.kr", nonce=f"n{i}", issued_at=NOW - 100)
        checked = verify_key_proof(proof, audience="https://id.mois.go.kr", now=NOW - 100)
        bound = credential(issuer_craft, checked)
        how[0] = device_craft
        try:
            return present(bound, phone, now=NOW - 5)
        finally:
            how[0] = None

    texts = []
    for j in range(1, 8):
        texts += [credential(torsion_r(j)), credential(small_r(j))]
        texts += [presentation(None, torsion_r(j)), presentation(torsion_r(j), None)]
    texts += [credential(s_plus_l), presentation(None, s_plus_l)]
    texts += [credential(None) for _ in range(20)] + [presentation(None, None) for _ in range(6)]
    return texts


def test_check_many_on_holder_crafted_signatures_equals_the_reference(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = _crafted_texts(monkeypatch)
    checker = StatusListChecker(TrustStore([ISSUER.public_key]))
    checker.load(sign_token(pack([0] * 200, 2), URI, ISSUER, issued_at=NOW - 60), NOW)

    def verifier() -> Verifier:
        return Verifier([ISSUER.public_key], clock=fixed_clock(NOW), status=checker)

    reference = verifier()
    expected = {text: (r.valid, r.code) for text, r in ((t, reference.check(t)) for t in texts)}
    codes = [code for _, code in expected.values()]
    assert codes.count(Code.VALID) == 26
    assert codes.count(Code.SIGNATURE_INVALID) == 22 and codes.count(Code.DEVICE_SIGNATURE_INVALID) == 8
    rng = random.Random(18)
    for _ in range(8):  # new coefficients each time: a torsion R would slip through in 1/8 to 1/2
        order = list(texts)
        rng.shuffle(order)
        gate = FastVerifier(verifier(), compiled=native)
        assert gate.batching == native
        got = gate.check_many(order)
        assert [(r.valid, r.code) for r in got] == [expected[text] for text in order]


def test_joined_messages_must_fill_the_buffer_exactly(batch_module: Any) -> None:
    """``vcb_verify_joined`` marks nothing (and returns -1) unless the message lengths add up to
    the joined buffer's length: a length running past the buffer is never read."""
    lib, ffi = batch_module.lib, batch_module.ffi
    items = _valid(4, random.Random(3))
    joined = b"".join(message for _, message, _ in items)
    signatures, keys = b"".join(s for _, _, s in items), b"".join(k for k, _, _ in items)
    lengths = [len(message) for _, message, _ in items]
    for total, given in [
        (len(joined), lengths),  # exact: every item proven
        (len(joined) - 1, lengths),  # the lengths run past the buffer
        (len(joined) + 1, lengths),  # a byte left over
        (len(joined), [*lengths[:-1], lengths[-1] + 1]),
    ]:
        ok = ffi.new("unsigned char[]", b"\x01" * 4)
        result = lib.vcb_verify_joined(4, joined, total, ffi.new("size_t[]", given), signatures, keys, ok)
        exact = total == len(joined) and given == lengths
        assert result == (4 if exact else -1)
        assert bytes(ffi.buffer(ok, 4)) == (b"\x01" * 4 if exact else bytes(4))
