"""The gate-speed path agrees with the reference path on every valid and invalid case, and its
repeat-scan cache re-checks time and status on every scan."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import forge
from tests.conftest import NOW, SEED, reference_claims
from tests.negative_cases import CASES, Case
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusPolicy, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import cbor
from vcsdk.codec.base45 import ALPHABET
from vcsdk.errors import UsageError
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify import FastVerifier
from vcsdk.verify.fast import split_sign1

KEY = Ed25519PrivateKey(SEED)
URI = "https://id.mois.go.kr/sl/7"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_agrees_on_the_whole_negative_suite(case: Case) -> None:
    text = case.text()
    reference = case.verifier()
    fast = FastVerifier(reference)
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


def test_valid_results_are_identical_and_cached() -> None:
    reference, _, texts = _world([0, 0, 0])
    fast = FastVerifier(reference, cache_size=2)
    for text in texts:
        assert fast.verify(text) == reference.verify(text)
        assert fast.verify(text) == reference.verify(text)  # a cache hit
    assert (fast.cached, fast.cache_size) == (2, 2)  # bounded LRU
    fast.clear_cache()
    assert fast.cached == 0
    assert split_sign1(b"\xd2\x84") is None


def test_cache_rechecks_time_and_status_on_every_scan() -> None:
    reference, checker, texts = _world([0, 0])
    fast = FastVerifier(reference)
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


REFERENCE = Verifier([KEY.public_key], clock=fixed_clock(NOW))
FAST = FastVerifier(REFERENCE, cache_size=0)
TEXT = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW)).issue(reference_claims(), credential_id=bytes(16)).qr_text


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(ALPHABET + "a:\n"))
def test_agrees_on_single_character_changes(position: int, replacement: str) -> None:
    position %= len(TEXT)
    changed = TEXT[:position] + replacement + TEXT[position + 1 :]
    assert FAST.check(changed).code == REFERENCE.check(changed).code


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.integers(-70000, 70000), st.integers() | st.text(max_size=4) | st.binary(max_size=4), max_size=5)
)
def test_agrees_on_signed_arbitrary_claims(extra: dict[int, object]) -> None:
    text = forge.text({**forge.claims(), **extra})
    assert FAST.check(text).code == REFERENCE.check(text).code


# Unknown status accepted: a credential the fast lane wrongly accepted would come out VALID here
# instead of falling back to the reference path (which a STATUS_UNKNOWN verdict would trigger).
LENIENT = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
LENIENT_FAST = FastVerifier(LENIENT, cache_size=0)


def test_trailing_bytes_after_the_signed_payload_are_refused_by_both_paths() -> None:
    """A validly signed payload with bytes after its CBOR item, and a COSE message with bytes
    after its signature: the fast lane must not accept what the reference refuses."""
    signed_with_trailer = forge.text(cbor.dumps(forge.claims()) + b"\x00")
    assert (
        LENIENT_FAST.check(signed_with_trailer).code == LENIENT.check(signed_with_trailer).code == Code.CBOR_MALFORMED
    )
    message_with_trailer = forge.text_from_cose(forge.sign1_bytes() + b"\x40")
    assert (
        LENIENT_FAST.check(message_with_trailer).code == LENIENT.check(message_with_trailer).code == Code.CBOR_MALFORMED
    )
    assert split_sign1(forge.sign1_bytes() + b"\x40") is None
    assert LENIENT_FAST.check(forge.text()).code == Code.VALID  # the same credential without trailers


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_agrees_on_signed_arbitrary_bytes(payload: bytes) -> None:
    """The payload is any byte string, validly signed: not only well-formed claim maps."""
    text = forge.text(payload)
    assert LENIENT_FAST.check(text).code == LENIENT.check(text).code


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=40))
def test_agrees_on_signed_claims_followed_by_arbitrary_bytes(suffix: bytes) -> None:
    text = forge.text(cbor.dumps(forge.claims()) + suffix)
    assert LENIENT_FAST.check(text).code == LENIENT.check(text).code != Code.VALID
