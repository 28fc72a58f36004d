"""Ed25519 batch verification gives exactly libsodium's per-signature verdicts: Wycheproof alone
and mixed into batches, random valid/invalid mixes, crafted small-order / non-canonical A, R and
S, batch sizes 1..130; and the batched FastVerifier.check_many equals check on every text."""

from __future__ import annotations

import hashlib
import importlib
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from tests import ed25519_math as em
from tests.conftest import (
    NATIVE_SKIP,
    NOW,
    REQUIRE_NATIVE,
    ROOT,
    SEED,
    load_conformance_json,
    reference_claims,
)
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.errors import UsageError
from vcsdk.holder import make_key_proof, present, verify_key_proof
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify import FastVerifier, batch
from vcsdk.verify.batch import Triple, proven, verify_batch, verify_single

SEEDS = [bytes([i]) * 32 for i in range(1, 5)]
SIGNERS = [nacl.signing.SigningKey(seed) for seed in SEEDS]


@pytest.fixture
def native(lane: bool) -> Iterator[bool]:
    """Every test runs on both lanes: compiled (the batch verifier proves what it can) and pure
    Python (nothing proven, every signature checked singly). ``FastVerifier(compiled=native)``."""
    if lane and not batch.native_available():
        why = f"{NATIVE_SKIP}: the batch verifier vcsdk._native._batch25519 (scripts/bootstrap.sh builds it)"
        if REQUIRE_NATIVE:
            pytest.fail(f"{why}; VCSDK_REQUIRE_NATIVE=1 requires it")
        pytest.skip(why)
    previous = batch.set_native(lane)
    try:
        yield batch.native_enabled()  # (False on both lanes under VCSDK_PURE=1: nothing batched)
    finally:
        batch.set_native(previous)


def _valid(n: int, rng: random.Random, signers: list[nacl.signing.SigningKey] = SIGNERS) -> list[Triple]:
    items = []
    for _ in range(n):
        key = rng.choice(signers)
        message = rng.randbytes(rng.randrange(0, 200))
        items.append((bytes(key.verify_key), message, key.sign(message).signature))
    return items


def _expected(items: list[Triple]) -> list[bool]:
    return [verify_single(*item) for item in items]


def _corrupt(item: Triple, rng: random.Random) -> Triple:
    key, message, signature = item
    how = rng.randrange(5)
    if how == 0:
        return key, message + b"!", signature
    if how == 1:  # a bit of R
        spot = rng.randrange(32)
        return key, message, signature[:spot] + bytes([signature[spot] ^ 1 << rng.randrange(8)]) + signature[spot + 1 :]
    if how == 2:  # a bit of S
        spot = rng.randrange(32, 64)
        return key, message, signature[:spot] + bytes([signature[spot] ^ 1 << rng.randrange(8)]) + signature[spot + 1 :]
    if how == 3:  # another key
        return bytes(SIGNERS[(SIGNERS.index(_signer(key)) + 1) % len(SIGNERS)].verify_key), message, signature
    s = (int.from_bytes(signature[32:], "little") + em.L) % 2**256  # S + L: same value mod L, not canonical
    return key, message, signature[:32] + s.to_bytes(32, "little")


def _signer(key: bytes) -> nacl.signing.SigningKey:
    return next(s for s in SIGNERS if bytes(s.verify_key) == key)


# ---------------------------------------------------------------------- Wycheproof


def _wycheproof() -> list[tuple[Triple, str]]:
    data = load_conformance_json("wycheproof", "ed25519_test.json")
    vectors = []
    for group in data["testGroups"]:
        key = bytes.fromhex(group["publicKey"]["pk"])
        for test in group["tests"]:
            vectors.append(((key, bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])), test["result"]))
    assert len(vectors) == data["numberOfTests"] == 151
    return vectors


def test_wycheproof_alone_and_mixed_matches_libsodium(native: bool) -> None:
    vectors = _wycheproof()
    items = [item for item, _ in vectors]
    expected = _expected(items)
    assert sum(expected) == sum(result == "valid" for _, result in vectors)  # libsodium agrees with Wycheproof
    rng = random.Random(1)
    for item, want in zip(items, expected, strict=True):
        assert verify_batch([item]) == [want]
        mix = _valid(20, rng)
        mix.insert(rng.randrange(len(mix) + 1), item)
        assert verify_batch(mix) == _expected(mix)
    # all 151 at once, shuffled among valid signatures
    everything = items + _valid(40, rng)
    rng.shuffle(everything)
    assert verify_batch(everything) == _expected(everything)
    if native:  # the batch really proves the valid vectors (not only the per-item fallback)
        valid = [item for item, want in zip(items, expected, strict=True) if want]
        assert proven(valid) == set(valid)
        assert not proven([item for item, want in zip(items, expected, strict=True) if not want])


# ---------------------------------------------------------------------- random mixes and sizes


def test_random_mixes_match_per_item_verdicts(native: bool) -> None:
    rng = random.Random(7)
    for _ in range(60):
        items = _valid(rng.randrange(1, 70), rng)
        bad = rng.random() * 0.5
        items = [_corrupt(item, rng) if rng.random() < bad else item for item in items]
        expected = _expected(items)
        assert verify_batch(items) == expected
        assert proven(items) <= {item for item, want in zip(items, expected, strict=True) if want}


@pytest.mark.parametrize("size", [1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 130, 300])
def test_batch_sizes(native: bool, size: int) -> None:
    rng = random.Random(size)
    items = _valid(size, rng)
    assert verify_batch(items) == [True] * size
    if native and size > 1:
        assert proven(items) == set(items)
    one_bad = list(items)
    spot = rng.randrange(size)
    one_bad[spot] = _corrupt(one_bad[spot], rng)
    assert verify_batch(one_bad) == [i != spot for i in range(size)]


def test_many_distinct_keys(native: bool) -> None:
    rng = random.Random(3)
    signers = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(40)]
    items = _valid(64, rng, signers)
    assert verify_batch(items) == [True] * 64
    if native:
        assert proven(items) == set(items)


# ---------------------------------------------------------------------- crafted points and scalars


def test_small_order_and_non_canonical_keys_and_r(native: bool) -> None:
    rng = random.Random(5)
    background = _valid(10, rng)
    seed = SEEDS[0]
    key = em.public_key(seed)
    message = b"crafted"
    good = em.sign_with_r(seed, message, 424242)
    assert verify_single(key, message, good)
    crafted: list[Triple] = []
    for enc in em.small_order_encodings():
        crafted.append((enc, message, good))  # small-order (or non-canonical small-order) A
        crafted.append((key, message, enc + good[32:]))  # small-order R
        crafted.append((enc, message, enc + bytes(32)))  # A = R small order, S = 0: "verifies" cofactorlessly
    # non-canonical R (y + p) for R whose y is small enough: only the small-order ones exist; and S >= L
    for bump in (em.L, 2 * em.L, 2**253):
        s = int.from_bytes(good[32:], "little") + bump
        if s < 2**256:
            crafted.append((key, message, good[:32] + s.to_bytes(32, "little")))
    crafted.append((key, message, good[:32] + em.L.to_bytes(32, "little")))  # S = L
    # a mixed-order key: prime-order key plus a torsion point
    mixed = em.encode(em.add(em.decode(key) or em.IDENTITY, em.torsion_point()))
    crafted.append((mixed, message, good))
    for item in crafted:
        want = verify_single(*item)
        assert verify_batch([item]) == [want]
        mix = [*background, item]
        assert verify_batch(mix) == _expected(mix)
        assert item not in proven(mix) or want


def test_torsion_in_r_is_never_accepted(native: bool) -> None:
    """R = [r]B + T with T a non-zero torsion point (order 2, 4 or 8) and S = r + h a: only the
    private-key holder can make it, and libsodium's cofactorless check rejects it. A bare random
    combination would accept it whenever z is a multiple of the order of T (probability 1/8 to
    1/2); the batch refuses any R outside the prime-order subgroup, so it is never accepted."""
    seed = SEEDS[1]
    key = em.public_key(seed)
    torsion = em.torsion_point()
    rng = random.Random(11)
    background = _valid(15, rng)
    for k in range(1, 8):
        message = b"signer-made %d" % k
        crafted = (key, message, em.sign_with_r(seed, message, 99 + k, em.mul(k, torsion)))
        assert not verify_single(*crafted)
        for _ in range(24):  # a bare combination would accept in about 3 to 12 of these
            mix = [*background, crafted]
            rng.shuffle(mix)
            assert verify_batch(mix) == _expected(mix)
            assert crafted not in proven(mix)


def _mixed_key_signature(seed: bytes, message: bytes) -> tuple[bytes, bytes]:
    """(A + T, signature) with T of order 8 that libsodium accepts: R = [r]B + [j]T with j = -h
    (mod 8), so that S B - h (A + T) = [r]B - [h]T = R exactly."""
    a, _ = em.secret_scalar(seed)
    torsion = em.torsion_point()
    mixed_point = em.add(em.mul(a, em.B), torsion)
    mixed = em.encode(mixed_point)
    for r in range(1000, 1100):
        for j in range(8):
            big_r = em.encode(em.add(em.mul(r, em.B), em.mul(j, torsion)))
            h = int.from_bytes(hashlib.sha512(big_r + mixed + message).digest(), "little") % em.L
            if (h + j) % 8 == 0:
                return mixed, big_r + ((r + h * a) % em.L).to_bytes(32, "little")
    raise AssertionError("no r found")


def test_mixed_order_key_signatures_get_libsodiums_verdict(native: bool) -> None:
    """libsodium accepts some signatures under a key with a torsion component (its check is
    cofactorless, the torsion parts cancel); such a key never enters a combination, so the
    single check decides, even for a key seen many times."""
    seed = SEEDS[2]
    message = b"mixed-order key"
    mixed, signature = _mixed_key_signature(seed, message)
    accepted = (mixed, message, signature)
    rejected = (mixed, message + b"!", signature)
    assert verify_single(*accepted)
    assert not verify_single(*rejected)
    rng = random.Random(12)
    for _ in range(4):
        mix = [*_valid(10, rng), accepted, accepted, rejected]
        rng.shuffle(mix)
        assert verify_batch(mix) == _expected(mix)
        assert accepted not in proven(mix)


# ---------------------------------------------------------------------- the verifier's batch path

ISSUER = Ed25519PrivateKey(SEED)
URI = "https://id.mois.go.kr/sl/7"


def _phone(i: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(bytes([i % 251 + 1]) * 31 + b"\x07")


def _gate_world() -> tuple[Verifier, list[str]]:
    checker = StatusListChecker(TrustStore([ISSUER.public_key]))
    checker.load(sign_token(pack([0] * 40 + [1] * 4, 2), URI, ISSUER, issued_at=NOW - 60), NOW)
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    texts: list[str] = []
    for i in range(44):
        if i % 3 == 0:
            phone = _phone(i)
            proof = verify_key_proof(
                make_key_proof(phone, audience="https://id.mois.go.kr", nonce=f"n{i}", issued_at=NOW - 100),
                audience="https://id.mois.go.kr",
                now=NOW - 100,
            )
            bound = issuer.issue(reference_claims(), status=StatusReference(i, URI), holder=proof).qr_text
            texts.append(present(bound, phone, now=NOW - 5))
            texts.append(bound)  # bare: PRESENTATION_REQUIRED
            texts.append(present(bound, _phone(i + 1), now=NOW - 5))  # another phone: DEVICE_SIGNATURE_INVALID
        else:
            texts.append(issuer.issue(reference_claims(), status=StatusReference(i, URI)).qr_text)
    other = Issuer(Ed25519PrivateKey(bytes(range(50, 82))), "KR-MOIS", clock=fixed_clock(NOW - 100))
    texts.append(other.issue(reference_claims(), status=StatusReference(1, URI)).qr_text)  # KEY_NOT_IN_TRUST_LIST
    forged = texts[1][:-6] + ("AAAAAA" if not texts[1].endswith("AAAAAA") else "BBBBBB")
    texts += [forged, "GID1:", "junk", texts[1]]  # a corrupted text and a repeat scan
    return Verifier([ISSUER.public_key], clock=fixed_clock(NOW), status=checker), texts


def _fresh_world() -> tuple[Verifier, list[str]]:
    reference, texts = _gate_world()
    checker = reference.status_checker
    return Verifier([ISSUER.public_key], clock=fixed_clock(NOW), status=checker), texts


def test_check_many_equals_check_on_every_text(native: bool) -> None:
    one_by_one, texts = _fresh_world()
    batched, _ = _fresh_world()
    rng = random.Random(2)
    for _ in range(3):
        order = list(texts)
        rng.shuffle(order)
        single = FastVerifier(one_by_one, compiled=native)
        expected = [single.check(text) for text in order]
        got = FastVerifier(batched, compiled=native, batch=True).check_many(order)
        assert [(r.valid, r.code, r.kid) for r in got] == [(r.valid, r.code, r.kid) for r in expected]
        assert [r.credential for r in got] == [r.credential for r in expected]
    codes = {r.code for r in FastVerifier(_fresh_world()[0], compiled=native, batch=True).check_many(texts)}
    assert {Code.VALID, Code.PRESENTATION_REQUIRED, Code.DEVICE_SIGNATURE_INVALID, Code.STATUS_REVOKED} <= codes
    assert Code.KEY_NOT_IN_TRUST_LIST in codes


def test_check_many_replays_are_still_refused(native: bool) -> None:
    reference, texts = _fresh_world()
    fast = FastVerifier(reference, compiled=native, batch=True)
    presentations = [t for t in texts if t.startswith("GIDP1:")]
    first = fast.check_many(presentations + presentations)
    half = len(presentations)
    assert [r.code for r in first[half:]] == [Code.PRESENTATION_REPLAYED if r.valid else r.code for r in first[:half]]


def test_check_many_uses_the_batch(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the compiled lane, signatures in a batch are not verified again one by one (neither by
    PyNaCl nor by the lane's libsodium call); on the pure lane every one is."""
    from vcsdk import _native
    from vcsdk.verify import native as native_lane

    reference, texts = _fresh_world()
    credentials = [t for t in texts if t.startswith("GID1:")][:30]
    calls = 0
    original = nacl.signing.VerifyKey.verify

    def counting(self: nacl.signing.VerifyKey, smessage: bytes, signature: bytes | None = None) -> bytes:
        nonlocal calls
        calls += 1
        return original(self, smessage, signature)

    class CountingLib:
        def __init__(self, lib: object) -> None:
            self._lib = lib

        def __getattr__(self, name: str) -> object:
            return getattr(self._lib, name)

        def vl_verify(self, *args: object) -> object:
            nonlocal calls
            calls += 1
            return self._lib.vl_verify(*args)  # type: ignore[attr-defined]

        def vl_verify_parts(self, *args: object) -> object:  # the single-scan path's verify
            nonlocal calls
            calls += 1
            return self._lib.vl_verify_parts(*args)  # type: ignore[attr-defined]

    monkeypatch.setattr(nacl.signing.VerifyKey, "verify", counting)
    if _native.LIB is not None:
        monkeypatch.setattr(native_lane, "LIB", CountingLib(_native.LIB))
    batched = FastVerifier(reference, cache_size=0, compiled=native, batch=True)
    assert batched.batching is native
    batched.check_many(credentials)
    if native:
        assert calls == 0  # every signature proven by the batch (keys included at first sight)
    else:
        assert calls >= 28
    calls = 0
    default = FastVerifier(reference, cache_size=0, compiled=native)  # batches by default
    assert default.batching is native
    default.check_many(credentials)
    assert calls == 0 if native else calls >= 28
    calls = 0
    opted_out = FastVerifier(reference, cache_size=0, compiled=native, batch=False)  # one by one
    assert not opted_out.batching
    opted_out.check_many(credentials)
    assert calls >= 28
    with pytest.raises(UsageError):
        FastVerifier(reference, batch=1)  # type: ignore[arg-type]


def test_version_says_whether_the_batch_verifier_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from vcsdk_cli.version import version_text

    monkeypatch.delenv("VCSDK_PURE", raising=False)
    line = next(line for line in version_text().splitlines() if line.startswith("batch verifier: "))
    if batch.native_available():
        assert line == (
            "batch verifier: compiled, on"
            " (check_many: Ed25519, up to 64 scans at once; FastVerifier(batch=False) opts out)"
        )
    else:
        assert line == "batch verifier: off (vcsdk._native._batch25519 not built)"
    items = _valid(3, random.Random(4))
    assert proven(items) == (set(items) if batch.native_available() else set())
    monkeypatch.setenv("VCSDK_PURE", "1")
    assert "batch verifier: off (VCSDK_PURE=1)" in version_text().splitlines() or not batch.native_available()
    assert not batch.native_enabled()
    assert not proven(items)  # nothing is proven while the pure lane is forced


# ---------------------------------------------------------------------- the ASan fuzz harness


def test_batch_fuzz_harness_checks_verdicts_against_libsodium(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness of ``fuzz.native_batch`` over the regular module: the seeds run clean (and
    really are batches that verify), and a batch verifier that marks a bad signature valid is an
    escape."""
    if not batch.native_available():
        pytest.skip(f"{NATIVE_SKIP}: the batch verifier is not built")
    from fuzz.native import Escape
    from fuzz.native_batch import encode, harness, items_of, seeds

    module: Any = importlib.import_module("vcsdk._native._batch25519")

    class Libc:
        def __init__(self, lib: object) -> None:
            self._lib = lib
            self._keep: dict[int, object] = {}

        def __getattr__(self, name: str) -> object:
            return getattr(self._lib, name)

        def malloc(self, size: int) -> object:
            block = module.ffi.new("unsigned char[]", size)
            self._keep[int(module.ffi.cast("uintptr_t", block))] = block
            return block

        def free(self, block: object) -> None:
            self._keep.pop(int(module.ffi.cast("uintptr_t", block)), None)

    lib = Libc(module.lib)
    one_input = harness(module.ffi, lib)
    for seed in seeds():
        one_input(seed)
    valid = items_of(seeds()[2])
    assert len(valid) == 9 and all(verify_single(*item) for item in valid)
    assert items_of(encode(valid)) == valid

    def lying_verify(n: int, *args: object) -> int:
        ok = args[-1]
        for i in range(n):
            ok[i] = 1  # type: ignore[index]
        return n

    monkeypatch.setattr(lib, "vcb_verify", lying_verify)
    bad = [*valid[:2], (valid[2][0], valid[2][1] + b"!", valid[2][2])]
    with pytest.raises(Escape, match="libsodium rejects"):
        one_input(encode(bad))


def test_batch_c_code_is_fuzzed_under_addresssanitizer(tmp_path: Path) -> None:
    """The ASan build of batch25519.c, fuzzed for three seconds through the shipped runner: the
    mutated batches get past the decoding (items proven, keys and R found valid) and the run is
    clean."""
    from fuzz.native import libasan

    if libasan() is None:
        pytest.skip("no gcc with libasan.so: scripts/bootstrap.sh installs gcc")
    command = [sys.executable, "-m", "fuzz.native_batch", "--seconds", "3", "--seed", "7", "--work", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    found = re.fullmatch(
        r"fuzz\.native_batch \(ASan\): ([\d,]+) executions in .* 0 escapes; items proven by the batch "
        r"([\d,]+)/([\d,]+), keys and R valid ([\d,]+)/([\d,]+)\n",
        result.stdout,
    )
    assert found, result.stdout
    runs, proven, items, valid, points = (int(group.replace(",", "")) for group in found.groups())
    assert runs > 100 and items > runs and points == 2 * items
    assert 0 < proven < items and 0 < valid < points  # past the decoding, and not everything passes
    assert "AddressSanitizer" not in (tmp_path / "batch_asan.log").read_text()


def test_batch_fuzz_variants_reach_every_kind_of_point() -> None:
    """The mutator makes keys and R with a torsion component (libsodium: on the curve, not valid),
    small-order and non-canonical encodings, next to unchanged valid ones."""
    import nacl.bindings

    from fuzz.native_batch import items_of, seeds, variants

    rng = random.Random(3)
    valid = invalid = decodable_invalid = 0
    for _, data in zip(range(400), variants(seeds(), rng), strict=False):
        for key, _, signature in items_of(data):
            for point in (key, signature[:32]):
                if nacl.bindings.crypto_core_ed25519_is_valid_point(point):
                    valid += 1
                else:
                    invalid += 1
                    try:
                        nacl.bindings.crypto_core_ed25519_add(point, em.encode(em.B))
                        decodable_invalid += 1  # a curve point outside the prime-order subgroup
                    except (RuntimeError, ValueError):
                        pass
    assert valid > 1000 and invalid > 50 and decodable_invalid > 20
