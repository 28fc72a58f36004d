"""The gate-speed path agrees with the reference path on every valid and invalid case, and its
repeat-scan cache re-checks time and status on every scan: on both lanes (the ``lane`` fixture:
pure Python, and the compiled module when it is built)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import forge
from tests.conftest import NATIVE_SKIP, NOW, SEED, lanes_of, reference_claims
from tests.negative_cases import CASES, Case
from vcsdk import (
    Code,
    Ed25519PrivateKey,
    Issuer,
    StatusPolicy,
    StatusReference,
    TrustStore,
    Verifier,
    _native,
    fixed_clock,
)
from vcsdk.codec import cbor
from vcsdk.codec.base45 import ALPHABET
from vcsdk.errors import UsageError
from vcsdk.limits import DEFAULT_LIMITS
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify import FastVerifier, native
from vcsdk.verify.fast import split_sign1
from vcsdk.verify.native import NativeLane

KEY = Ed25519PrivateKey(SEED)
URI = "https://id.mois.go.kr/sl/7"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_agrees_on_the_whole_negative_suite(case: Case, lane: bool) -> None:
    text = case.text()
    reference = case.verifier()
    fast = FastVerifier(reference, compiled=lane)
    assert fast.compiled is lane
    assert fast.check(text).code == reference.check(text).code == case.code
    assert fast.check(text).code == case.code  # twice: the cache never holds a failure


def _world(status_values: list[int]) -> tuple[Verifier, StatusListChecker, list[str]]:
    checker = StatusListChecker(TrustStore([KEY.public_key]))
    checker.load(sign_token(pack(status_values, 2), URI, KEY, issued_at=NOW - 60), NOW)
    issuer = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW - 100))
    texts = [
        issuer.issue(reference_claims(), status=StatusReference(i, URI)).qr_text for i in range(len(status_values))
    ]
    return Verifier([KEY.public_key], clock=fixed_clock(NOW), status=checker), checker, texts


def test_valid_results_are_identical_and_cached(lane: bool) -> None:
    reference, _, texts = _world([0, 0, 0])
    fast = FastVerifier(reference, cache_size=2, compiled=lane)
    for text in texts:
        assert fast.verify(text) == reference.verify(text)
        assert fast.verify(text) == reference.verify(text)  # a cache hit
    assert (fast.cached, fast.cache_size) == (2, 2)  # bounded LRU
    fast.clear_cache()
    assert fast.cached == 0
    assert split_sign1(b"\xd2\x84") is None


def test_cache_rechecks_time_and_status_on_every_scan(lane: bool) -> None:
    reference, checker, texts = _world([0, 0])
    fast = FastVerifier(reference, compiled=lane)
    assert fast.check(texts[0]).code == Code.VALID
    revoked = sign_token(pack([1, 0], 2), URI, KEY, issued_at=NOW - 30)
    checker.load(revoked, NOW)  # the list changed after the first scan
    assert fast.check(texts[0]).code == Code.STATUS_REVOKED
    assert fast.check(texts[1]).code == Code.VALID
    far_future = NOW + 4 * 365 * 86400
    assert fast.check(texts[1], far_future).code == Code.CWT_EXPIRED
    later = fast.verify_at(texts[1], NOW + 10)
    assert later.status_list_age == 40  # age recomputed on a hit
    results = fast.verify_many([texts[0], texts[1], "junk"])
    assert [r.code for r in results] == [Code.STATUS_REVOKED, Code.VALID, Code.INVALID_SCHEME_PREFIX]


def test_construction_errors() -> None:
    with pytest.raises(UsageError):
        FastVerifier("not a verifier")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        FastVerifier(Verifier([KEY.public_key]), cache_size=-1)
    with pytest.raises(UsageError, match="compiled must be"):
        FastVerifier(Verifier([KEY.public_key]), compiled=1)  # type: ignore[arg-type]


def test_the_lane_is_chosen_automatically_and_vcsdk_pure_forces_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    reference = Verifier([KEY.public_key], clock=fixed_clock(NOW))
    monkeypatch.delenv(_native.ENV_PURE, raising=False)
    assert FastVerifier(reference).compiled is _native.available() is _native.lane().compiled
    assert FastVerifier(reference, compiled=False).compiled is False
    monkeypatch.setenv(_native.ENV_PURE, "1")
    assert _native.lane() == _native.Lane(False, "VCSDK_PURE=1")
    assert str(_native.lane()) == "pure Python (VCSDK_PURE=1)"
    assert FastVerifier(reference).compiled is False
    monkeypatch.setenv(_native.ENV_PURE, "0")
    assert FastVerifier(reference).compiled is _native.available()


def test_a_missing_compiled_module_means_the_pure_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the build had failed: the default is pure, and asking for compiled is a UsageError."""
    monkeypatch.delenv(_native.ENV_PURE, raising=False)
    monkeypatch.setattr(_native, "LIB", None)
    monkeypatch.setattr(native, "LIB", None)
    monkeypatch.setattr(_native, "_IMPORT_ERROR", "compiled module not built: no module named _fastlane")
    assert str(_native.lane()) == "pure Python (compiled module not built: no module named _fastlane)"
    assert _native.versions() == "not built"
    reference = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    fast = FastVerifier(reference)
    assert fast.compiled is False
    assert fast.check(forge.text()).code == Code.VALID
    with pytest.raises(UsageError, match="not available"):
        FastVerifier(reference, compiled=True)
    with pytest.raises(UsageError, match="not built"):
        NativeLane(DEFAULT_LIMITS, "GID1:")


def test_the_compiled_lane_verifies_without_the_reference_path(lane: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid credential never reaches the reference pipeline on either lane (the lane is used,
    not bypassed), and an invalid one always does (the reference names the failure)."""
    reference = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    fast = FastVerifier(reference, cache_size=0, compiled=lane)
    calls: list[str] = []
    original = reference.verify_at

    def counted(text: str, now: int) -> object:
        calls.append(text)
        return original(text, now)

    monkeypatch.setattr(reference, "verify_at", counted)
    assert fast.check(forge.text()).code == Code.VALID
    assert calls == []
    text = forge.text()
    broken = text[:-4] + ("0000" if text[-4:] != "0000" else "1111")
    assert fast.check(broken).code == LENIENT.check(broken).code != Code.VALID
    assert calls == [broken]


def test_limits_beyond_the_c_buffers_are_a_usage_error() -> None:
    if not _native.available():
        pytest.skip(f"{NATIVE_SKIP}: {_native.lane().detail}")
    with pytest.raises(UsageError, match="16 MiB"):
        NativeLane(replace(DEFAULT_LIMITS, max_inflated_bytes=64 * 1024 * 1024), "GID1:")


def _reframed(head: bytes, length: int) -> bytes:
    """The seed COSE_Sign1 with its payload's length written as ``head`` + ``length`` bytes."""
    data = forge.sign1_bytes()
    protected, payload, signature = split_sign1(data)  # type: ignore[misc]
    return (
        b"\xd2\x84\x4d" + protected + b"\xa0" + head + len(payload).to_bytes(length, "big") + payload
        + b"\x58\x40" + signature
    )  # fmt: skip


@pytest.mark.parametrize(("head", "length"), [(b"\x59", 2), (b"\x5a", 4)], ids=["uint16", "uint32"])
def test_non_preferred_length_encodings_agree_with_the_reference(lane: bool, head: bytes, length: int) -> None:
    """The same signed bytes in a non-shortest CBOR framing: both lanes answer as the reference."""
    text = forge.text_from_cose(_reframed(head, length))
    assert LENIENT_FAST[lane].check(text).code == LENIENT.check(text).code


REFERENCE = Verifier([KEY.public_key], clock=fixed_clock(NOW))
FAST = lanes_of(lambda compiled: FastVerifier(REFERENCE, cache_size=0, compiled=compiled))
TEXT = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW)).issue(reference_claims(), credential_id=bytes(16)).qr_text


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(ALPHABET + "a:\n"))
def test_agrees_on_single_character_changes(lane: bool, position: int, replacement: str) -> None:
    position %= len(TEXT)
    changed = TEXT[:position] + replacement + TEXT[position + 1 :]
    assert FAST[lane].check(changed).code == REFERENCE.check(changed).code


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.integers(-70000, 70000), st.integers() | st.text(max_size=4) | st.binary(max_size=4), max_size=5)
)
def test_agrees_on_signed_arbitrary_claims(lane: bool, extra: dict[int, object]) -> None:
    text = forge.text({**forge.claims(), **extra})
    assert FAST[lane].check(text).code == REFERENCE.check(text).code


# Unknown status accepted: a credential the fast lane wrongly accepted would come out VALID here
# instead of falling back to the reference path (which a STATUS_UNKNOWN verdict would trigger).
LENIENT = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
LENIENT_FAST = lanes_of(lambda compiled: FastVerifier(LENIENT, cache_size=0, compiled=compiled))


def test_trailing_bytes_after_the_signed_payload_are_refused_by_both_paths(lane: bool) -> None:
    """A validly signed payload with bytes after its CBOR item, and a COSE message with bytes
    after its signature: the fast lane must not accept what the reference refuses."""
    signed_with_trailer = forge.text(cbor.dumps(forge.claims()) + b"\x00")
    assert (
        LENIENT_FAST[lane].check(signed_with_trailer).code
        == LENIENT.check(signed_with_trailer).code
        == Code.CBOR_MALFORMED
    )
    message_with_trailer = forge.text_from_cose(forge.sign1_bytes() + b"\x40")
    assert (
        LENIENT_FAST[lane].check(message_with_trailer).code
        == LENIENT.check(message_with_trailer).code
        == Code.CBOR_MALFORMED
    )
    assert split_sign1(forge.sign1_bytes() + b"\x40") is None
    assert LENIENT_FAST[lane].check(forge.text()).code == Code.VALID  # the same credential without trailers


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_agrees_on_signed_arbitrary_bytes(lane: bool, payload: bytes) -> None:
    """The payload is any byte string, validly signed: not only well-formed claim maps."""
    text = forge.text(payload)
    assert LENIENT_FAST[lane].check(text).code == LENIENT.check(text).code


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=40))
def test_agrees_on_signed_claims_followed_by_arbitrary_bytes(lane: bool, suffix: bytes) -> None:
    text = forge.text(cbor.dumps(forge.claims()) + suffix)
    assert LENIENT_FAST[lane].check(text).code == LENIENT.check(text).code != Code.VALID
