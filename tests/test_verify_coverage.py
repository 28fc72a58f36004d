"""Branches of ``vcsdk/verify/`` and the presentation code (``vcsdk/holder/``) that no other test
reached: misuse refused as ``UsageError``, hostile shapes refused with their stable code, and the
rarer trust, status and fast-lane paths. ``scripts/test.sh`` holds these packages at 100 % branch
coverage (docs/fuzzing.md, "Coverage")."""

from __future__ import annotations

import dataclasses
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests import forge
from tests.conftest import NOW, SEED, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusPolicy, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import base45, cbor, cose, cwt, qrtext
from vcsdk.errors import (
    ClaimsInvalid,
    COSEMalformed,
    KeyProofInvalid,
    PublicKeyNotYetValid,
    StatusUnknown,
    UsageError,
)
from vcsdk.holder import Challenge, decode_challenge, decode_presentation, make_key_proof, present, verify_key_proof
from vcsdk.holder.challenge import CHALLENGE_PREFIX
from vcsdk.holder.presentation import PRESENTATION_PREFIX, credential_bytes
from vcsdk.holder.proof import PROOF_CONTENT_TYPE
from vcsdk.keys import ECPublicKey, Ed25519PublicKey
from vcsdk.limits import DEFAULT_LIMITS
from vcsdk.profiles.base import OFFICIAL_ID
from vcsdk.trust.store import KeyState, TrustedKey
from vcsdk.verify import FastVerifier, parallel
from vcsdk.verify.authenticate import AuthPolicy, authenticate
from vcsdk.verify.checks import VerifyPolicy, parse_cnf
from vcsdk.verify.presentation import PresentationGuard
from vcsdk.verify.status import StatusCheck

ISSUER = Ed25519PrivateKey(SEED)
PHONE = Ed25519PrivateKey(bytes(range(100, 132)))
AUD = "https://id.mois.go.kr"
URI = "https://id.mois.go.kr/sl/7"
NONCE = bytes(range(16))
DATE_TAG = frozenset({100})  # full-date (RFC 8943) inside the official-ID claims


def _bound_text() -> str:
    proof = verify_key_proof(make_key_proof(PHONE, audience=AUD, nonce="n", issued_at=NOW), audience=AUD, now=NOW)
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW))
    return issuer.issue(reference_claims(), status=StatusReference(0, URI), holder=proof).qr_text


def _lenient(trust: TrustStore | None = None, **kwargs: Any) -> Verifier:
    """Trusts the issuer; no status list, unknown status allowed; the clock at NOW + 10."""
    kwargs.setdefault("status_policy", StatusPolicy.ALLOW_UNKNOWN)
    trust = TrustStore([ISSUER.public_key]) if trust is None else trust
    return Verifier(trust, clock=fixed_clock(NOW + 10), require_status=False, **kwargs)


def _presentation_text(payload: dict[int, Any], protected: dict[int, Any] | None = None) -> str:
    """A GIDP1: text around ``payload`` (signed by the phone; the decoder does not check it)."""
    message = cose.sign1(cbor.dumps(payload), protected or {1: -8}, PHONE.sign)
    return qrtext.pack(message, PRESENTATION_PREFIX)


# --------------------------------------------------------------------------- challenges


@pytest.mark.parametrize(
    ("nonce", "gate", "when"),
    [(b"short", "g", 0), (bytearray(16), "g", 0), (NONCE, "", 0), (NONCE, "g", -1), (NONCE, "g", True)],
    ids=["short-nonce", "bytearray-nonce", "empty-gate", "negative-time", "bool-time"],
)
def test_challenge_fields_are_checked_on_construction(nonce: Any, gate: Any, when: Any) -> None:
    with pytest.raises(UsageError):
        Challenge(nonce, gate, when)


def test_decode_challenge_refuses_a_non_text_argument() -> None:
    with pytest.raises(UsageError):
        decode_challenge(12345)  # type: ignore[arg-type]


@pytest.mark.parametrize("when", [-1, 1.5, "now", True])
def test_decoded_challenge_time_must_be_unsigned_integer_seconds(when: Any) -> None:
    text = CHALLENGE_PREFIX + base45.b45encode(cbor2.dumps({1: NONCE, 2: "gate", 3: when}))
    with pytest.raises(ClaimsInvalid, match="challenge time") as caught:
        decode_challenge(text)
    assert caught.value.code is Code.CLAIMS_INVALID


def test_decode_challenge_reads_bytes_as_latin1_text() -> None:
    challenge = Challenge(NONCE, "gate", NOW)
    assert decode_challenge(challenge.to_text().encode("latin-1")) == challenge


# --------------------------------------------------------------------------- presentations (holder side)


def test_credential_bytes_takes_text_or_bytes_only() -> None:
    text = _bound_text()
    assert credential_bytes(text) == qrtext.unpack(text, "GID1:", DEFAULT_LIMITS)
    assert credential_bytes(b"\xd2") == b"\xd2"
    with pytest.raises(UsageError):
        credential_bytes(1234)  # type: ignore[arg-type]


def test_present_refuses_misuse() -> None:
    text = _bound_text()
    with pytest.raises(UsageError, match="Ed25519 device key"):
        present(text, PHONE.public_key, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="Challenge"):
        present(text, PHONE, now=NOW, challenge=Challenge(NONCE, "g", NOW).to_text())  # type: ignore[arg-type]
    for now in (-1, 1.0, True):
        with pytest.raises(UsageError, match="now"):
            present(text, PHONE, now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({1: b"", 2: NOW}, "non-empty bstr"),
        ({1: "cose", 2: NOW}, "non-empty bstr"),
        ({1: b"\xd2", 2: NOW, 3: NONCE, 4: ""}, "gate id"),
        ({1: b"\xd2", 2: NOW, 3: NONCE, 4: 7}, "gate id"),
        ({1: b"\xd2", 2: NOW, 3: NONCE, 4: "g" * 65}, "gate id"),
        ({1: b"\xd2", 2: NOW, 3: NONCE[:15], 4: "g"}, "nonce"),
    ],
    ids=["empty-credential", "text-credential", "empty-gate", "int-gate", "long-gate", "short-nonce"],
)
def test_presentation_payload_shape_is_claims_invalid(payload: dict[int, Any], message: str) -> None:
    with pytest.raises(ClaimsInvalid, match=message) as caught:
        decode_presentation(_presentation_text(payload))
    assert caught.value.code is Code.CLAIMS_INVALID


# --------------------------------------------------------------------------- key proofs


def test_make_key_proof_refuses_misuse() -> None:
    with pytest.raises(UsageError, match="audience"):
        make_key_proof(PHONE, audience="", nonce="n", issued_at=NOW)
    for nonce in ("", "n" * 129, b"n"):
        with pytest.raises(UsageError, match="nonce"):
            make_key_proof(PHONE, audience=AUD, nonce=nonce, issued_at=NOW)  # type: ignore[arg-type]
    for issued_at in (-1, 1.0):
        with pytest.raises(UsageError, match="issued_at"):
            make_key_proof(PHONE, audience=AUD, nonce="n", issued_at=issued_at)  # type: ignore[arg-type]


def _proof(protected: dict[Any, Any], claims: bytes | None = None, unprotected: dict[int, Any] | None = None) -> bytes:
    payload = cbor.dumps({3: AUD, 6: NOW, 10: "n"}) if claims is None else claims
    return forge.sign1_bytes(payload, protected=protected, unprotected=unprotected, key=PHONE)


_GOOD_KEY = {1: 1, -1: 6, -2: PHONE.public_key.raw}


@pytest.mark.parametrize(
    ("protected", "unprotected", "message"),
    [
        ({1: -7, 3: PROOF_CONTENT_TYPE, "COSE_Key": _GOOD_KEY}, None, "EdDSA"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": _GOOD_KEY}, {4: b"k"}, "nothing unprotected"),
        ({1: -8, 3: "application/cwt", "COSE_Key": _GOOD_KEY}, None, "content type"),
        ({1: -8, 3: PROOF_CONTENT_TYPE}, None, "missing or has unknown labels"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {}}, None, "missing or has unknown labels"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {**_GOOD_KEY, 9: 1}}, None, "missing or has unknown labels"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {**_GOOD_KEY, 1: 2}}, None, "OKP Ed25519"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {**_GOOD_KEY, -1: 7}}, None, "OKP Ed25519"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {**_GOOD_KEY, 3: -7}}, None, "OKP Ed25519"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {**_GOOD_KEY, -2: bytes(31)}}, None, "32 bytes"),
        ({1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {**_GOOD_KEY, -2: "x" * 32}}, None, "32 bytes"),
    ],
    ids=[
        "es256",
        "unprotected-kid",
        "content-type",
        "no-key",
        "empty-key",
        "unknown-label",
        "not-okp",
        "not-ed25519",
        "alg-not-eddsa",
        "short-x",
        "text-x",
    ],
)
def test_key_proof_header_is_checked(
    protected: dict[Any, Any], unprotected: dict[int, Any] | None, message: str
) -> None:
    with pytest.raises(KeyProofInvalid, match=message) as caught:
        verify_key_proof(_proof(protected, unprotected=unprotected), audience=AUD, now=NOW)
    assert caught.value.code is Code.KEY_PROOF_INVALID


def test_key_proof_with_a_non_cbor_payload_is_key_proof_invalid() -> None:
    protected = {1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": _GOOD_KEY}
    with pytest.raises(KeyProofInvalid, match="not strict CBOR"):
        verify_key_proof(_proof(protected, claims=b"\xff\x00"), audience=AUD, now=NOW)
    assert verify_key_proof(_proof(protected), audience=AUD, now=NOW).device_key == PHONE.public_key


# --------------------------------------------------------------------------- authentication


def test_authenticate_refuses_an_untagged_message_when_the_policy_requires_the_tag() -> None:
    message = cose.decode_sign1(forge.sign1_bytes(tag=None), DEFAULT_LIMITS, require_tag=False)
    trust = TrustStore([ISSUER.public_key])
    with pytest.raises(COSEMalformed, match="not a tagged") as caught:
        authenticate(message, trust, AuthPolicy("credential", payload_tags=DATE_TAG), DEFAULT_LIMITS)
    assert caught.value.code is Code.COSE_MALFORMED
    untagged_ok = AuthPolicy("credential", require_tag=False, payload_tags=DATE_TAG)
    accepted = authenticate(message, trust, untagged_ok, DEFAULT_LIMITS)
    assert accepted.signer.key == ISSUER.public_key


def test_a_compromised_twin_under_the_same_kid_does_not_block_the_good_key() -> None:
    """Two keys share a kid; the compromised one is dropped and the other still verifies."""
    twin = Ed25519PrivateKey(bytes(range(1, 33))).public_key
    twin = Ed25519PublicKey(twin.raw, kid=ISSUER.public_key.kid)
    trust = TrustStore([TrustedKey(twin, state=KeyState.COMPROMISED), TrustedKey(ISSUER.public_key)])
    assert len(trust.candidates(ISSUER.public_key.kid)) == 2
    assert _lenient(trust=trust).check(forge.text()).code == Code.VALID
    only_twin = TrustStore([TrustedKey(twin, state=KeyState.COMPROMISED)])
    assert Verifier(only_twin, clock=fixed_clock(NOW)).check(forge.text()).code == Code.PUBLIC_KEY_COMPROMISED


def test_a_windowed_key_cannot_vouch_for_a_payload_without_an_issue_time() -> None:
    trust = TrustStore([TrustedKey(ISSUER.public_key, not_before=NOW - 10_000)])
    message = cose.decode_sign1(forge.sign1_bytes(forge.claims(iat=None)), DEFAULT_LIMITS)
    with pytest.raises(PublicKeyNotYetValid, match="no integer issue time"):
        authenticate(message, trust, AuthPolicy("credential", payload_tags=DATE_TAG), DEFAULT_LIMITS)
    no_map = cose.decode_sign1(forge.sign1_bytes(b"\x01"), DEFAULT_LIMITS)
    with pytest.raises(PublicKeyNotYetValid):
        authenticate(no_map, trust, AuthPolicy("credential", payload_tags=DATE_TAG), DEFAULT_LIMITS)


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    "kwargs",
    [
        {"leeway": -1},
        {"leeway": 301},
        {"leeway": 1.0},
        {"status": "fail-closed"},
        {"require_status": 1},
        {"max_validity": 0},
        {"max_validity": 1.5},
    ],
    ids=["negative-leeway", "leeway-over-max", "float-leeway", "status-text", "int-require", "zero-max", "float-max"],
)
def test_verify_policy_refuses_misuse(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        VerifyPolicy(**kwargs)


@pytest.mark.parametrize(
    "cnf",
    [{1: {"kty": 1}}, {1: [1, 6]}, {1: {1: 1}, 2: 0}, {"1": {}}],
    ids=["text-labels", "array-key", "extra-member", "text-cnf-label"],
)
def test_cnf_shape_is_claims_invalid(cnf: Any) -> None:
    with pytest.raises(ClaimsInvalid):
        parse_cnf(cnf)


class _ByValue:
    """A status checker answering one fixed value (an 8-bit list may hold values beyond 3)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def check(self, reference: StatusReference, now: int, *, issuer: str, signer: TrustedKey) -> StatusCheck:
        return StatusCheck(self.value, reference.uri, now - 60)


def test_a_status_value_without_meaning_is_unknown_or_allowed_by_policy() -> None:
    text = forge.text()
    strict = Verifier([ISSUER.public_key], clock=fixed_clock(NOW), status=_ByValue(7))
    assert strict.check(text).code == Code.STATUS_UNKNOWN
    with pytest.raises(StatusUnknown, match="no meaning"):
        strict.verify(text)
    lenient = Verifier(
        [ISSUER.public_key], clock=fixed_clock(NOW), status=_ByValue(7), status_policy=StatusPolicy.ALLOW_UNKNOWN
    )
    assert lenient.verify(text).status_check is None
    known = Verifier([ISSUER.public_key], clock=fixed_clock(NOW), status=_ByValue(0)).verify(text)
    assert known.status_check is not None and known.status_check.value == 0


# --------------------------------------------------------------------------- the verifier's seams


def test_verifier_refuses_misuse() -> None:
    for window in (-1, 1.5):
        with pytest.raises(UsageError, match="presentation_window"):
            _lenient(presentation_window=window)
    with pytest.raises(UsageError, match="PresentationGuard"):
        _lenient(presentations=object())
    verifier = _lenient()
    with pytest.raises(UsageError, match="now"):
        verifier.verify_cose(b"\xd2", 1.0)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="now"):
        verifier.check(forge.text(), now=1.0)  # type: ignore[arg-type]


def test_verifier_exposes_its_policy_and_status_checker() -> None:
    checker = _ByValue(0)
    verifier = Verifier([ISSUER.public_key], status=checker, leeway=7, max_validity=None)
    assert verifier.policy == VerifyPolicy(leeway=7, max_validity=None)
    assert verifier.status_checker is checker
    assert _lenient().status_checker is None


def test_recheck_after_the_trust_list_expired_is_trust_list_expired() -> None:
    trust = TrustStore([ISSUER.public_key], expires_at=NOW + 100)
    verifier = Verifier(trust, require_status=False, status_policy=StatusPolicy.ALLOW_UNKNOWN)
    fast = FastVerifier(verifier)
    text = forge.text()
    assert fast.verify_at(text, NOW).kid == ISSUER.public_key.kid
    assert fast.cached == 1  # the repeat scan below rechecks the cached credential
    assert fast.check(text, NOW + 99).code == Code.VALID
    assert fast.check(text, NOW + 100).code == Code.TRUST_LIST_EXPIRED
    assert fast.cached == 0


def test_verified_credential_to_json_names_profile_kid_and_claims() -> None:
    credential = _lenient().verify(forge.text())
    summary = credential.to_json()
    assert summary["profile"] == credential.profile
    assert summary["kid"] == ISSUER.public_key.kid.hex()
    assert summary["claims"] == credential.claims_json()


# --------------------------------------------------------------------------- presentation guard and binding


def test_presentation_guard_refuses_misuse() -> None:
    for name in ("replay_capacity", "nonce_capacity"):
        for value in (0, 1.0, True):
            kwargs: dict[str, Any] = {name: value}
            with pytest.raises(UsageError, match=name):
                PresentationGuard("gate", **kwargs)
    with pytest.raises(UsageError, match="needs a gate_id"):
        PresentationGuard(require_challenge=True)


def test_replay_entries_are_forgotten_once_the_presentation_is_too_old_to_be_shown() -> None:
    text = _bound_text()
    guard = PresentationGuard("gate", replay_capacity=10)
    verifier = _lenient(presentations=guard)
    first = present(text, PHONE, now=NOW)
    assert verifier.check(first, NOW).code == Code.VALID
    assert verifier.check(first, NOW + 1).code == Code.PRESENTATION_REPLAYED
    # Long after the window, a new presentation purges the old entry; the old one is now expired.
    later = NOW + 1000
    assert verifier.check(present(text, PHONE, now=later), later).code == Code.VALID
    assert verifier.check(first, later).code == Code.PRESENTATION_EXPIRED


def test_a_credential_bound_to_an_ecdsa_key_cannot_be_presented() -> None:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    ec_key = ECPublicKey("P-256", numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big"))
    cnf = {cwt.CNF_COSE_KEY: ec_key.to_cose_key()}
    inner = forge.sign1_bytes(forge.claims(cnf=cnf))
    for gate in (_lenient(holder_binding="off"), FastVerifier(_lenient(holder_binding="off"))):
        result = gate.check(present(inner, PHONE, now=NOW + 10))
        assert result.code == Code.DEVICE_SIGNATURE_INVALID, gate


# --------------------------------------------------------------------------- fast lane


def test_fast_lane_hands_non_text_input_to_the_reference() -> None:
    fast = FastVerifier(_lenient())
    text = forge.text()
    assert fast.verify_at(text.encode("ascii"), NOW).kid == ISSUER.public_key.kid
    assert fast.cached == 0  # bytes took the reference path, nothing was cached
    with pytest.raises(UsageError):
        fast.verify_at(text, 1.0)  # type: ignore[arg-type]


def test_fast_lane_falls_back_when_the_signature_is_not_a_bstr() -> None:
    body = cbor2.loads(forge.sign1_bytes())
    broken = cbor2.dumps(cbor2.CBORTag(18, [*body.value[:3], "signature"]))
    text = forge.text_from_cose(broken)
    reference = _lenient()
    for fast in (FastVerifier(_lenient()), FastVerifier(_lenient(), compiled=False)):
        assert fast.check(text).code == reference.check(text).code == Code.COSE_MALFORMED


def test_fast_lane_presentation_with_a_non_cbor_payload_is_named_by_the_reference() -> None:
    message = cose.encode_sign1(cose.encode_protected({1: -8}), {}, b"\xff\xff", bytes(64))
    text = qrtext.pack(message, PRESENTATION_PREFIX)
    fast, reference = FastVerifier(_lenient()), _lenient()
    assert fast.check(text).code == reference.check(text).code == Code.CBOR_MALFORMED


def test_fast_lane_without_the_fast_profile_verifies_presentations_by_the_reference() -> None:
    es256_only = dataclasses.replace(OFFICIAL_ID, algorithms=frozenset({-7}))
    text = present(_bound_text(), PHONE, now=NOW + 10)
    fast = FastVerifier(_lenient(profile=es256_only))
    reference = _lenient(profile=es256_only)
    assert fast.check(text).code == reference.check(text).code == Code.UNSUPPORTED_ALGORITHM
    assert fast.cached == 0


# --------------------------------------------------------------------------- the worker-process pool


def _lenient_factory() -> Verifier:
    return _lenient()


def test_pool_worker_functions_check_batches_in_order() -> None:
    """What each worker process runs, exercised in this process (coverage does not follow spawn)."""
    good, bad = forge.text(), forge.text(forge.claims(iat=NOW - 5000, exp=NOW - 1000))
    parallel._init(_lenient_factory)
    try:
        results = parallel._check_batch(([good, bad, good], NOW))
        assert [r.code for r in results] == [Code.VALID, Code.CWT_EXPIRED, Code.VALID]
        as_json = parallel._check_batch_json([bad, good])
        assert [r["code"] for r in as_json] == ["CWT_EXPIRED", "VALID"]
        assert as_json[1]["valid"] is True
    finally:
        parallel._init(lambda: None)


def test_batches_are_cut_at_the_size_and_keep_the_tail() -> None:
    assert list(parallel._batches(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(parallel._batches(range(4), 2)) == [[0, 1], [2, 3]]
    assert list(parallel._batches([], 3)) == []


def test_parallel_verifier_refuses_bad_sizes() -> None:
    with pytest.raises(UsageError):
        parallel.ParallelVerifier(_lenient_factory, workers=0)
    with pytest.raises(UsageError):
        parallel.ParallelVerifier(_lenient_factory, batch_size=0)


def test_parallel_verifier_streams_json_results_in_input_order() -> None:
    good, bad = forge.text(), forge.text(forge.claims(iat=NOW - 5000, exp=NOW - 1000))
    with parallel.ParallelVerifier[Any](_lenient_factory, workers=1, batch_size=2) as pool:
        codes = [r["code"] for r in pool.check_many_json([good, bad, good])]
    assert codes == ["VALID", "CWT_EXPIRED", "VALID"]


def test_absorbed_memory_keeps_the_capacities_and_answered_nonces() -> None:
    """A guard restored from saved memory (a restart) keeps its capacities, and a nonce answered
    before the restart stays answered even if this guard holds it unanswered."""
    text = _bound_text()
    saved = PresentationGuard("gate", replay_capacity=2, nonce_capacity=2)
    verifier = _lenient(presentations=saved)
    answered = saved.challenge(NOW)
    assert verifier.check(present(text, PHONE, now=NOW + 1, challenge=answered), NOW + 1).code == Code.VALID
    for offset in (2, 3):
        assert verifier.check(present(text, PHONE, now=NOW + offset), NOW + offset).code == Code.VALID
    saved.challenge(NOW + 3)
    seen, nonces = saved.export(NOW + 3)
    assert len(seen) == 2 and [a for _, _, a in nonces] == [True, False]

    nonces_made = iter([answered.nonce, bytes(16)])  # this guard made the same nonce, unanswered
    restored = PresentationGuard("gate", replay_capacity=2, nonce_capacity=2, random=lambda n: next(nonces_made))
    restored.challenge(NOW)
    restored.challenge(NOW + 4)
    restored_gate = _lenient(presentations=restored)
    assert restored_gate.check(present(text, PHONE, now=NOW + 5), NOW + 5).code == Code.VALID
    restored.absorb(seen, nonces, NOW + 5)
    exported_seen, exported_nonces = restored.export(NOW + 5)
    assert len(exported_seen) == 2  # three entries, capacity two: the oldest went
    assert [(n, a) for n, _, a in exported_nonces] == [(nonces[1][0], False), (bytes(16), False)]
    # the answered nonce was the oldest of three: over the capacity, so it is forgotten
    again = present(text, PHONE, now=NOW + 6, challenge=answered)
    assert restored_gate.check(again, NOW + 6).code == Code.CHALLENGE_MISMATCH


def test_the_pools_shared_book_leaves_challenge_answers_to_their_gate() -> None:
    """The pool records bare presentations its workers accepted (a second copy is a replay);
    an answer to a challenge is single-use at the gate that made the challenge, not here."""
    text = _bound_text()
    bare = present(text, PHONE, now=NOW + 1)
    answer = present(text, PHONE, now=NOW + 1, challenge=Challenge(NONCE, "gate", NOW))
    with parallel.ParallelVerifier[Any](_lenient_factory, workers=1) as pool:
        assert pool._replayed(answer, True, NOW + 2) is None
        assert pool._replayed(answer, True, NOW + 2) is None  # not recorded by the pool
        assert pool._replayed(bare, True, NOW + 2) is None
        replayed = pool._replayed(bare, True, NOW + 2)
        assert replayed is not None and replayed.code == Code.PRESENTATION_REPLAYED
        assert pool._replayed(bare, False, NOW + 2) is None  # refused by its worker: nothing to record


def test_json_results_two_workers_both_accepted_are_settled_as_replays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers each accept the same presentation (each has its own guard): the pool's book
    turns the second into PRESENTATION_REPLAYED with no claims. Which worker takes which batch is
    the process pool's choice, so the workers' answers are fixed here."""
    presentation = present(forge.text(), Ed25519PrivateKey(bytes(range(7, 39))), now=NOW)
    accepted = {"valid": True, "code": "VALID", "message": "credential is valid", "kid": None,
                "claims": {"name": "김민준"}, "status_checked": True, "exp": "2030-01-01T00:00:00Z"}  # fmt: skip
    with parallel.ParallelVerifier[Any](_lenient_factory, workers=1, batch_size=1, clock=fixed_clock(NOW)) as pool:
        real_map = pool._pool.map
        monkeypatch.setattr(pool._pool, "map", lambda fn, jobs: [[dict(accepted)] for _ in jobs])
        lines = list(pool.check_many_json([presentation, presentation]))
        monkeypatch.setattr(pool._pool, "map", real_map)
    assert [line["code"] for line in lines] == ["VALID", "PRESENTATION_REPLAYED"]
    assert lines[1]["valid"] is False and lines[1]["claims"] is None and lines[1]["exp"] is None
