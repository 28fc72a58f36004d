"""Tests written to kill mutants that survived the mutation run over ``vcsdk/verify/``
(docs/mutation.md, "verify/").

The fast lane's ``check`` answers a failure with the reference verifier's verdict, which hides a
fast-lane mistake; these tests therefore call ``verify_at`` on each lane and compare the raised
codes. Each test names the mutants it kills.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests import forge
from tests.conftest import NOW, SEED, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusPolicy, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import cbor, cose, cwt, qrtext
from vcsdk.codec.cbor import TAG_EPOCH_DAYS, StrictDecoder
from vcsdk.errors import CredentialInvalid, StatusUnknown
from vcsdk.holder import make_key_proof, present, verify_key_proof
from vcsdk.holder.presentation import PRESENTATION_PREFIX
from vcsdk.keys import PublicKey
from vcsdk.keys.ecdsa import ECPublicKey
from vcsdk.limits import DEFAULT_LIMITS, Limits
from vcsdk.trust.store import KeyState, TrustedKey
from vcsdk.verify import FastVerifier
from vcsdk.verify.authenticate import AuthPolicy, Trace, open_sign1
from vcsdk.verify.checks import PAYLOAD_TAGS, parse_claims
from vcsdk.verify.presentation import PresentationGuard
from vcsdk.verify.result import Verification
from vcsdk.verify.status import StatusCheck

ISSUER = Ed25519PrivateKey(SEED)
PHONE = Ed25519PrivateKey(bytes(range(100, 132)))
AUD = "https://id.mois.go.kr"
URI = "https://id.mois.go.kr/sl/7"
GATE = "gate-1"
T = NOW + 1000


def _bound() -> str:
    proof = verify_key_proof(make_key_proof(PHONE, audience=AUD, nonce="n", issued_at=NOW), audience=AUD, now=NOW)
    return (
        Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW))
        .issue(reference_claims(), status=StatusReference(0, URI), holder=proof)
        .qr_text
    )


BOUND = _bound()
INNER = qrtext.unpack(BOUND, "GID1:", DEFAULT_LIMITS)


class _Fixed:
    """A status checker with one answer (value, or StatusUnknown when None), its list made at ``made``."""

    def __init__(self, value: int | None, made: int = T - 60) -> None:
        self.value, self.made = value, made

    def check(self, reference: StatusReference, now: int, *, issuer: str, signer: TrustedKey) -> StatusCheck:
        if self.value is None:
            raise StatusUnknown("no list")
        return StatusCheck(self.value, reference.uri, self.made)


def _reference(**kwargs: Any) -> Verifier:
    kwargs.setdefault("status", _Fixed(0))
    kwargs.setdefault("presentations", PresentationGuard(GATE))
    trust = kwargs.pop("trust", TrustStore([ISSUER.public_key]))
    return Verifier(trust, clock=fixed_clock(T), **kwargs)


def _code(call: Any) -> Code:
    try:
        call()
    except CredentialInvalid as exc:
        return exc.code
    return Code.VALID


def _both(text: str, now: int = T, **kwargs: Any) -> tuple[Code, Code]:
    """The verify_at code of a fresh reference verifier and of a fresh fast lane."""
    return (
        _code(lambda: _reference(**kwargs).verify_at(text, now)),
        _code(lambda: FastVerifier(_reference(**kwargs)).verify_at(text, now)),
    )


def _signed(payload: dict[int, Any]) -> str:
    return qrtext.pack(cose.sign1(cbor.dumps(payload), {1: -8}, PHONE.sign), PRESENTATION_PREFIX)


NONCE = bytes(range(16))


@pytest.mark.parametrize(
    "payload",
    [
        {1: "text", 2: T},
        {1: b"", 2: T},
        {1: INNER, 2: T, 4: GATE},
        {1: INNER, 2: T, 3: "a" * 16, 4: GATE},
        {1: INNER, 2: T, 3: NONCE, 4: "g" * 65},
        {1: INNER, 2: T, 3: NONCE[:15], 4: GATE},
        {1: INNER, 2: T, 3: NONCE + b"!", 4: GATE},
        {1: INNER, 2: T, 3: NONCE, 4: b"gate"},
        {1: INNER, 2: T, 3: NONCE, 4: ""},
    ],
    ids=[
        "text-credential",
        "empty-credential",
        "gate-without-nonce",
        "text-nonce",
        "gate-65",
        "nonce-15",
        "nonce-17",
        "bytes-gate",
        "empty-gate",
    ],
)
def test_fast_outer_layers_refuse_what_the_reference_refuses(payload: dict[int, Any]) -> None:
    """Kills fast._fast_outer 30-33, 40, 57, 59, 60, 68 and their kin (a malformed payload taken as a presentation)."""
    assert _both(_signed(payload)) == (Code.CLAIMS_INVALID, Code.CLAIMS_INVALID)


def test_an_answer_to_the_gates_challenge_keeps_its_gate_on_the_fast_lane() -> None:
    """Kills fast._fast_outer 72 (gate id dropped: every answer would be CHALLENGE_MISMATCH)."""
    for lane in ("reference", "fast"):
        guard = PresentationGuard(GATE)
        reference = _reference(presentations=guard)
        gate = reference if lane == "reference" else FastVerifier(reference)
        answer = present(BOUND, PHONE, now=T, challenge=guard.challenge(T))
        credential = gate.verify_at(answer, T)
        assert credential.presentation is not None and credential.presentation.gate_id == GATE, lane
        assert _code(lambda: gate.verify_at(answer, T)) == Code.PRESENTATION_REPLAYED  # noqa: B023


def test_fast_lane_presentation_respects_the_text_cap_and_trust_expiry() -> None:
    """Kills fast._presentation 3, 4 (text cap) and 7 (trust list expiring exactly now)."""
    text = present(BOUND, PHONE, now=T)
    assert _both(text, limits=Limits(max_text_chars=len(text) - 1)) == (Code.LIMIT_EXCEEDED,) * 2
    assert _both(text, limits=Limits(max_text_chars=len(text))) == (Code.VALID,) * 2
    expiring = TrustStore([ISSUER.public_key], expires_at=T)
    assert _both(text, trust=expiring) == (Code.TRUST_LIST_EXPIRED,) * 2
    assert _both(text, T - 1, trust=expiring) == (Code.VALID,) * 2


def test_fast_lane_decodes_a_presentation_under_the_verifiers_own_limits() -> None:
    """Kills fast._presentation 18 (the reference decoder called with the default limits)."""
    inflated = len(cose.decode_sign1(qrtext.unpack(present(BOUND, PHONE, now=T), PRESENTATION_PREFIX,
                                                   DEFAULT_LIMITS), DEFAULT_LIMITS).payload)  # fmt: skip
    tight = Limits(max_inflated_bytes=inflated + 20)  # the presentation does not fit, the credential does
    assert _both(present(BOUND, PHONE, now=T), limits=tight) == (Code.LIMIT_EXCEEDED,) * 2


def test_fast_lane_verifies_the_inner_credential_by_the_reference_when_it_must() -> None:
    """Kills fast._presentation 37 (the reference handed no credential)."""
    es256_only = dataclasses.replace(_reference().profile, algorithms=frozenset({-7}))
    assert _both(present(BOUND, PHONE, now=T), profile=es256_only) == (Code.UNSUPPORTED_ALGORITHM,) * 2


def test_verify_cose_checks_trust_expiry_and_fills_the_trace() -> None:
    """Kills verifier.verify_cose 8, 11, 13, 17."""
    verifier = _reference(trust=TrustStore([ISSUER.public_key], expires_at=T + 1))
    trace = Trace()
    credential = verifier.verify_cose(INNER, T, trace)
    assert credential.holder_key == PHONE.public_key
    assert trace.kid == ISSUER.public_key.kid
    assert verifier.verify_cose(INNER, T).kid == ISSUER.public_key.kid
    assert _code(lambda: verifier.verify_cose(INNER, T + 1)) == Code.TRUST_LIST_EXPIRED


@pytest.mark.parametrize("lane", ["reference", "fast"])
def test_check_many_without_a_time_reads_the_clock(lane: str) -> None:
    """Kills verifier.check_many 1-8 and fast.check_many 1-8."""
    reference = Verifier(
        [ISSUER.public_key], clock=fixed_clock(NOW + 86_400 + 120), status_policy=StatusPolicy.ALLOW_UNKNOWN
    )
    gate = reference if lane == "reference" else FastVerifier(reference)
    texts = [forge.text(), forge.text(forge.claims(cti=bytes(range(16))))]
    assert [r.code for r in gate.check_many(texts)] == [Code.CWT_EXPIRED] * 2
    assert [r.code for r in gate.check_many(texts, NOW)] == [Code.VALID] * 2
    assert [r.credential.credential_id for r in gate.check_many(texts, NOW) if r.credential] == [
        bytes(16),
        bytes(range(16)),
    ]


def test_a_repeat_scan_reports_the_lists_age_now_and_keeps_unknown_status_allowed() -> None:
    """Kills verifier.recheck 21, 37, 38 and result.replace_status 2, 3, 6."""
    fast = FastVerifier(_reference(holder_binding="off", status=_Fixed(0, made=T - 60)))
    first = fast.verify_at(BOUND, T)
    assert (first.status_list_age, first.status_check) == (60, StatusCheck(0, URI, T - 60))
    again = fast.verify_at(BOUND, T)
    assert again == first
    later = fast.verify_at(BOUND, T + 30)
    assert later.status_list_age == 90 and later.status_check == first.status_check
    lenient = FastVerifier(
        _reference(holder_binding="off", status=_Fixed(None), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    )
    assert lenient.verify_at(BOUND, T).status_check is None
    assert lenient.verify_at(BOUND, T + 1).status_check is None  # the cached repeat scan: still allowed


def test_replay_book_holds_exactly_its_capacity() -> None:
    """Kills PresentationGuard.check_and_record 42 (one entry fewer than the capacity)."""
    guard = PresentationGuard(GATE, replay_capacity=3)
    gate = _reference(presentations=guard)
    shown = [present(BOUND, PHONE, now=T - i) for i in range(3)]
    for text in shown:
        assert gate.check(text, T).code == Code.VALID
    assert [gate.check(text, T).code for text in shown] == [Code.PRESENTATION_REPLAYED] * 3


def test_a_challenge_lives_exactly_twice_the_window_plus_leeway() -> None:
    """Kills PresentationGuard._purge 12 (a challenge forgotten one second early) and
    check_presentation 34 (a challenge kept for three windows instead of two)."""
    slack = 30 + 60  # default window and leeway
    for age, code in ((2 * slack, Code.VALID), (2 * slack + 1, Code.CHALLENGE_MISMATCH)):
        guard = PresentationGuard(GATE)
        gate = _reference(presentations=guard)
        challenge = guard.challenge(T - age)
        assert gate.check(present(BOUND, PHONE, now=T - slack, challenge=challenge), T).code == code, age


def test_an_expired_challenge_is_forgotten_even_when_the_replay_book_is_fresh() -> None:
    """Kills PresentationGuard._purge 6 (purging stopped at the first fresh replay entry)."""
    guard = PresentationGuard(GATE)
    gate = _reference(presentations=guard)
    old = guard.challenge(T - 100)  # lives until T + 80 (twice the window plus leeway: 180 s)
    assert gate.check(present(BOUND, PHONE, now=T), T).code == Code.VALID  # remembered until T + 180
    later = T + 90
    assert gate.check(present(BOUND, PHONE, now=later - 5, challenge=old), later).code == Code.CHALLENGE_MISMATCH


def test_a_key_window_includes_both_of_its_ends() -> None:
    """Kills authenticate.in_window 6 and 9 (a window end excluded) and 14."""
    iat = NOW - 100  # forge's iat
    text = forge.text()
    for not_before, not_after in ((iat, None), (None, iat), (iat, iat)):
        trust = TrustStore([TrustedKey(ISSUER.public_key, not_before=not_before, not_after=not_after)])
        verifier = Verifier(trust, clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
        assert verifier.check(text).code == Code.VALID, (not_before, not_after)
    late = TrustStore([TrustedKey(ISSUER.public_key, not_before=iat + 1)])
    early = TrustStore([TrustedKey(ISSUER.public_key, not_after=iat - 1)])
    assert Verifier(late, clock=fixed_clock(NOW)).check(text).code == Code.PUBLIC_KEY_NOT_YET_VALID
    assert Verifier(early, clock=fixed_clock(NOW)).check(text).code == Code.PUBLIC_KEY_EXPIRED
    # an empty window (two trust sources merged to their most restrictive bounds) ending at iat:
    # iat is not after the end, so the refusal names the start (kills in_window 14)
    empty = TrustStore([TrustedKey(ISSUER.public_key, not_before=iat + 1, not_after=iat)])
    assert Verifier(empty, clock=fixed_clock(NOW)).check(text).code == Code.PUBLIC_KEY_NOT_YET_VALID


def test_verified_credential_json_form() -> None:
    """Kills result.VerifiedCredential.to_json 1-48 and Verification.to_json 1-16: the JSON
    form is what ``verify --json`` and the gate print, so every field is pinned."""
    guard = PresentationGuard(GATE)
    reference = _reference(presentations=guard)
    nbf_text = forge.text(forge.claims(nbf=NOW - 50))
    bare = Verifier([ISSUER.public_key], clock=fixed_clock(NOW), status=_Fixed(0, made=NOW - 7)).verify(nbf_text)
    assert bare.to_json() == {
        "profile": "official-id-v1",
        "kid": ISSUER.public_key.kid.hex(),
        "iss": "KR-MOIS",
        "cti": "00" * 16,
        "iat": "2026-05-28T20:25:00Z",
        "nbf": "2026-05-28T20:25:50Z",
        "exp": "2026-05-29T20:26:40Z",
        "status": {"idx": 7, "uri": URI},
        "status_checked": True,
        "status_list_age": 7,
        "trust_source": "keys",
        "presentation": None,
        "claims": bare.claims_json(),
    }
    answer = present(BOUND, PHONE, now=T - 3, challenge=guard.challenge(T))
    presented = reference.verify_at(answer, T).to_json()
    assert presented["presentation"] == {"presented_at": "2026-05-28T20:43:17Z", "challenged": True, "gate_id": GATE}
    assert (presented["nbf"], presented["status_list_age"]) == (None, 60)
    unchecked = Verifier([ISSUER.public_key], clock=fixed_clock(NOW), require_status=False)
    blank = unchecked.verify(forge.text(forge.claims(status=None)))
    assert (blank.to_json()["status"], blank.to_json()["status_checked"], blank.to_json()["status_list_age"]) == (
        None,
        False,
        None,
    )
    assert Verification(True, Code.VALID, "credential is valid", bare.kid, bare).to_json() == {
        "valid": True,
        "code": "VALID",
        "message": "credential is valid",
        "kid": ISSUER.public_key.kid.hex(),
        "claims": bare.claims_json(),
    }
    assert Verification(False, Code.CWT_EXPIRED, "expired").to_json() == {
        "valid": False,
        "code": "CWT_EXPIRED",
        "message": "expired",
        "kid": None,
        "claims": None,
    }


def test_fast_lane_bare_credential_respects_the_text_cap_and_trust_expiry() -> None:
    """Kills fast._fast 2 (text cap skipped), 7 and 10 (trust list expiring exactly now)."""
    text = forge.text()
    assert _both(text, limits=Limits(max_text_chars=len(text) - 1)) == (Code.LIMIT_EXCEEDED,) * 2
    assert _both(text, limits=Limits(max_text_chars=len(text))) == (Code.VALID,) * 2
    expiring = TrustStore([ISSUER.public_key], expires_at=T)
    assert _both(text, trust=expiring) == (Code.TRUST_LIST_EXPIRED,) * 2
    assert _both(text, T - 1, trust=expiring) == (Code.VALID,) * 2


def test_fast_lane_verifies_canonical_input_without_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills fast._presentation 20, 21, 41 (the inner-credential cache never hit) and holds the
    fast lane to deciding canonical input itself (same verdict through the reference, speed lost)."""
    reference = _reference()
    fast = FastVerifier(reference)

    def refuse(*args: object) -> object:
        raise AssertionError("the fast lane called the reference verifier")

    for name in ("verify_at", "verify_cose", "check"):
        monkeypatch.setattr(reference, name, refuse)
    finished: list[bytes] = []
    finish = reference.finish_claims  # where both lanes end (finish parses claims, then calls it)

    def counted(*args: Any) -> Any:
        finished.append(args[1])
        return finish(*args)

    monkeypatch.setattr(reference, "finish_claims", counted)
    assert fast.verify_at(forge.text(), T).kid == ISSUER.public_key.kid
    first = fast.verify_at(present(BOUND, PHONE, now=T), T)
    assert first.presentation is not None and len(finished) == 2  # the bare credential and the inner one
    assert fast.verify_at(present(BOUND, PHONE, now=T + 1), T).presentation is not None
    assert len(finished) == 2  # the inner credential came from the cache, rechecked, not verified again


@pytest.mark.parametrize(
    ("kwargs", "build"),
    [
        ({"leeway": 300}, "policy"),
        ({"max_validity": 1}, "policy"),
        ({"replay_capacity": 1, "nonce_capacity": 1}, "guard"),
        ({"presentation_window": 0}, "verifier"),
    ],
    ids=["leeway-300", "max-validity-1", "capacity-1", "window-0"],
)
def test_the_smallest_and_largest_allowed_settings_are_accepted(kwargs: dict[str, Any], build: str) -> None:
    """Kills VerifyPolicy.__post_init__ 7, 25, PresentationGuard.__init__ 11, 12, Verifier.__init__ 31, 32."""
    from vcsdk.verify.checks import VerifyPolicy

    if build == "policy":
        assert VerifyPolicy(**kwargs) is not None
    elif build == "guard":
        assert PresentationGuard(GATE, **kwargs).outstanding() == 0
    else:
        assert _reference(**kwargs).check(present(BOUND, PHONE, now=T), T).code == Code.VALID


def test_a_verifier_refuses_a_profile_that_is_not_a_profile() -> None:
    """Kills Verifier.__init__ 1."""
    from vcsdk.errors import UsageError

    with pytest.raises(UsageError, match="official-ID claims"):
        Verifier([ISSUER.public_key], profile="official-id-v1")  # type: ignore[arg-type]


def test_exp_equal_to_iat_is_claims_invalid() -> None:
    """Kills checks.parse_claims 56."""
    text = forge.text(forge.claims(iat=NOW - 100, exp=NOW - 100))
    assert _both(text, NOW - 100) == (Code.CLAIMS_INVALID,) * 2


@pytest.mark.parametrize(
    "cnf",
    [
        {1: {1: 1, -1: 6, -2: PHONE.public_key.raw}, 2: 0},
        {1.0: {1: 1, -1: 6, -2: PHONE.public_key.raw}},
        "cnf",
        [1],
    ],
    ids=["extra-member", "float-label", "text", "array"],
)
def test_cnf_must_be_exactly_one_cose_key_under_label_1(cnf: Any) -> None:
    """Kills checks.parse_cnf 1 and 2 (a well-formed key with a wrong wrapper accepted)."""
    from vcsdk.errors import ClaimsInvalid
    from vcsdk.verify.checks import parse_cnf

    with pytest.raises(ClaimsInvalid):
        parse_cnf(cnf)
    assert parse_cnf({1: {1: 1, -1: 6, -2: PHONE.public_key.raw}}) == PHONE.public_key


def test_a_presented_credential_keeps_nbf_and_the_status_lists_age() -> None:
    """Kills result.with_presentation 6 and 11 (nbf or the list's age dropped from the copy)."""
    cnf = {1: {1: 1, -1: 6, -2: PHONE.public_key.raw}}
    inner = forge.sign1_bytes(forge.claims(cnf=cnf, nbf=NOW - 50))
    presented = _reference().verify_at(present(inner, PHONE, now=T), T)
    assert presented.presentation is not None
    assert (presented.not_before, presented.status_list_age) == (NOW - 50, 60)


def test_check_results_carry_valid_message_and_kid_on_both_lanes() -> None:
    """Kills fast.check 14, 16, 17, 24 and Verifier.check 22, 23, 26, 27, 31, 32, Verifier._run 35: ``valid``
    (the truth value a door opens on), the message and the kid are part of every result."""
    expired = forge.text(forge.claims(iat=NOW - 5000, exp=NOW - 1000))
    for gate in (_reference(holder_binding="off"), FastVerifier(_reference(holder_binding="off"))):
        ok = gate.check(forge.text(), T - 900)
        assert (ok.valid, bool(ok), ok.message, ok.kid) == (True, True, "credential is valid", ISSUER.public_key.kid)
        bad = gate.check(expired, T)
        assert (bad.valid, bad.code, bad.kid) == (False, Code.CWT_EXPIRED, ISSUER.public_key.kid)
        assert bad.message.startswith("expired at ")


def test_keys_sharing_a_kid_are_each_held_to_their_state_and_window() -> None:
    """Kills authenticate_parts 23, 24, 33, 35, 36, 38 (the several-candidates branch)."""
    other = Ed25519PrivateKey(bytes(range(1, 33)))
    twin = Ed25519PrivateKey(bytes(range(2, 34)))
    kid = ISSUER.public_key.kid
    other_key = TrustedKey(type(ISSUER.public_key)(other.public_key.raw, kid=kid))
    signer = TrustedKey(ISSUER.public_key, state=KeyState.COMPROMISED)
    twin_bad = TrustedKey(type(ISSUER.public_key)(twin.public_key.raw, kid=kid), state=KeyState.COMPROMISED)
    text = forge.text()

    def code(*keys: TrustedKey) -> Code:
        return (
            Verifier(TrustStore(keys), clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
            .check(text)
            .code
        )

    assert code(twin_bad, signer) == Code.PUBLIC_KEY_COMPROMISED  # every candidate compromised
    assert code(other_key, signer) == Code.SIGNATURE_INVALID  # the compromised signer is dropped
    iat = NOW - 100
    assert code(other_key, TrustedKey(ISSUER.public_key, not_after=iat - 1)) == Code.SIGNATURE_INVALID
    assert code(other_key, TrustedKey(ISSUER.public_key, not_after=iat)) == Code.VALID


def test_an_untagged_credential_is_refused_for_its_tag_before_its_headers_are_read() -> None:
    """Kills authenticate.open_sign1 4 (the tag rule not handed to the decoder): the missing tag
    18 is the first fault of the structure, so a credential without it is ``COSE_MALFORMED`` even
    when its protected header is not CBOR (which would otherwise be ``CBOR_MALFORMED``)."""
    untagged = forge.text_from_cose(forge.sign1_bytes(protected_bytes=b"\xa1", signature=bytes(64), tag=None))
    assert _code(lambda: _reference().verify_at(untagged, T)) == Code.COSE_MALFORMED
    tagged = forge.text_from_cose(forge.sign1_bytes(protected_bytes=b"\xa1", signature=bytes(64)))
    assert _code(lambda: _reference().verify_at(tagged, T)) == Code.CBOR_MALFORMED


def test_open_sign1_honours_the_policys_tag_rule_shared_labels_and_decoder() -> None:
    """Kills authenticate.open_sign1 8, 9, 15, 21. The shipped callers (credentials, status list
    tokens, trust lists) all require the tag, share no labels and pass no decoder, so these are
    checked on ``open_sign1`` itself: every field of the policy and the given decoder are used."""
    trust = TrustStore([ISSUER.public_key])
    kid = ISSUER.public_key.kid
    payload = {cwt.IAT: NOW, 99: cbor2.CBORTag(TAG_EPOCH_DAYS, 19_000)}
    plain = AuthPolicy("test document", payload_tags=frozenset({TAG_EPOCH_DAYS}))

    untagged = forge.sign1_bytes(payload, tag=None)
    assert open_sign1(untagged, trust, dataclasses.replace(plain, require_tag=False), DEFAULT_LIMITS).kid == kid
    assert _code(lambda: open_sign1(untagged, trust, plain, DEFAULT_LIMITS)) == Code.COSE_MALFORMED

    kid_twice = forge.sign1_bytes(payload, unprotected={cose.HEADER_KID: kid})
    shared = dataclasses.replace(plain, shared_labels=frozenset({cose.HEADER_KID}))
    assert open_sign1(kid_twice, trust, shared, DEFAULT_LIMITS).kid == kid
    assert _code(lambda: open_sign1(kid_twice, trust, plain, DEFAULT_LIMITS)) == Code.COSE_MALFORMED

    tagged = forge.sign1_bytes(payload)
    assert open_sign1(tagged, trust, plain, DEFAULT_LIMITS).payload == {cwt.IAT: NOW, 99: datetime.date(2022, 1, 8)}
    no_tags = StrictDecoder(DEFAULT_LIMITS)  # the caller's decoder wins over the policy's tags
    assert _code(lambda: open_sign1(tagged, trust, plain, DEFAULT_LIMITS, decoder=no_tags)) == Code.CBOR_MALFORMED


def _p256_key(kid: bytes) -> tuple[ec.EllipticCurvePrivateKey, ECPublicKey]:
    private = ec.derive_private_key(0x5EED, ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    return private, ECPublicKey("P-256", numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big"), kid=kid)


def test_a_key_of_another_algorithm_under_the_same_kid_never_verifies() -> None:
    """Kills authenticate_parts 13, 14 (keys of another algorithm kept among several candidates
    when the first one matched): the algorithm comes from the trusted key, so an EdDSA message
    signed by the ES256 key that shares the EdDSA key's kid is ``SIGNATURE_INVALID``."""
    kid = ISSUER.public_key.kid
    private, es256 = _p256_key(kid)
    protected = cose.encode_protected({cose.HEADER_ALG: -8, cose.HEADER_KID: kid})
    payload = cbor.dumps(forge.claims())
    r, s = decode_dss_signature(private.sign(cose.sig_structure(protected, payload), ec.ECDSA(hashes.SHA256())))
    text = forge.text_from_cose(
        forge.sign1_bytes(payload, protected_bytes=protected, signature=r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    )

    def code(*keys: PublicKey | TrustedKey) -> Code:
        verifier = Verifier(TrustStore(keys), clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
        return verifier.check(text).code

    assert code(es256) == Code.UNSUPPORTED_ALGORITHM
    assert code(ISSUER.public_key, es256) == Code.SIGNATURE_INVALID
    assert code(es256, ISSUER.public_key) == Code.SIGNATURE_INVALID
    assert code(ISSUER.public_key) == Code.SIGNATURE_INVALID


def test_several_keys_without_windows_do_not_ask_for_an_issue_time() -> None:
    """Kills authenticate_parts 39, 40 (keys without any window taken as windowed when several
    share a kid): a credential without iat then fails on its claims, not on a key window."""
    other = TrustedKey(type(ISSUER.public_key)(Ed25519PrivateKey(bytes(range(1, 33))).public_key.raw, kid=ISSUER.kid))
    no_iat = forge.text(forge.claims(iat=None))

    def code(*keys: PublicKey | TrustedKey) -> Code:
        verifier = Verifier(TrustStore(keys), clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
        return verifier.check(no_iat).code

    assert code(ISSUER.public_key) == Code.CLAIMS_INVALID
    assert code(other, ISSUER.public_key) == Code.CLAIMS_INVALID
    assert code(ISSUER.public_key, other) == Code.CLAIMS_INVALID
    assert code(other, TrustedKey(ISSUER.public_key, not_before=NOW - 200)) == Code.PUBLIC_KEY_NOT_YET_VALID


def test_a_failed_check_names_the_kid_of_a_presented_or_bare_credential() -> None:
    """Kills Verifier._run 21 and 35 (the trace not handed on): a refused credential's result
    still names the key it claimed, inside a presentation as well as bare."""
    cnf = {1: {1: 1, -1: 6, -2: PHONE.public_key.raw}}
    expired = forge.sign1_bytes(forge.claims(cnf=cnf, iat=NOW - 5000, exp=NOW - 1000))
    verifier = _reference()
    presented = verifier.check(present(expired, PHONE, now=T), T)
    assert (presented.code, presented.kid) == (Code.CWT_EXPIRED, ISSUER.public_key.kid)
    bare = _reference(holder_binding="off").check(forge.text_from_cose(expired), T)
    assert (bare.code, bare.kid) == (Code.CWT_EXPIRED, ISSUER.public_key.kid)


class _Answer:
    """A status checker whose answer the test changes: one StatusCheck object, returned as is."""

    def __init__(self, answer: StatusCheck) -> None:
        self.answer = answer

    def check(self, reference: StatusReference, now: int, *, issuer: str, signer: TrustedKey) -> StatusCheck:
        return self.answer


def test_a_repeat_scan_reports_the_status_check_and_age_of_now() -> None:
    """Kills Verifier.recheck 34-36 and VerifiedCredential.replace_status 5: a checker that keeps
    answering with the same object (a cache) still yields the list's age now, and a newer list of
    the same age replaces the old status check."""
    checker = _Answer(StatusCheck(0, URI, T - 60))
    verifier = _reference(holder_binding="off", status=checker)
    claims = parse_claims(
        cbor.loads_strict(cose.decode_sign1(INNER, DEFAULT_LIMITS).payload, DEFAULT_LIMITS, PAYLOAD_TAGS)
    )
    first = verifier.verify_at(BOUND, T)
    assert verifier.recheck(first, claims, T) == first
    later = verifier.recheck(first, claims, T + 30)
    assert (later.status_check, later.status_list_age) == (checker.answer, 90)
    checker.answer = StatusCheck(0, URI, T - 30)  # a list issued 30 s later, checked 30 s later
    newer = verifier.recheck(first, claims, T + 30)
    assert (newer.status_check, newer.status_list_age) == (StatusCheck(0, URI, T - 30), 60)
    assert first.replace_status(None, None).status_check is None
