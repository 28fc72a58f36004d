"""Holder binding: presentations, challenges, replay and the holder_binding policy, on the
reference path and the fast path alike (every code of the issue's list, both paths agreeing)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, SEED, lane_flag, reference_claims
from vcsdk import DEFAULT_LIMITS, Code, Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import cbor, cose, qrtext
from vcsdk.errors import UsageError, VCError
from vcsdk.holder import (
    Challenge,
    KeyProof,
    decode_challenge,
    decode_presentation,
    make_key_proof,
    present,
    verify_key_proof,
)
from vcsdk.holder.presentation import PRESENTATION_BUDGET_CHARS, PRESENTATION_PREFIX
from vcsdk.qr.capacity import plan
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify import FastVerifier
from vcsdk.verify.presentation import HolderBinding, PresentationGuard

ISSUER = Ed25519PrivateKey(SEED)
PHONE = Ed25519PrivateKey(bytes(range(100, 132)))
THIEF = Ed25519PrivateKey(bytes(range(200, 232)))
URI = "https://id.mois.go.kr/sl/7"
GATE = "seoul-gov-complex-east-3"
T = NOW + 1000  # the gate's "now"


def _proof(device: Ed25519PrivateKey = PHONE) -> KeyProof:
    raw = make_key_proof(device, audience="https://id.mois.go.kr", nonce="n-1", issued_at=NOW)
    return verify_key_proof(raw, audience="https://id.mois.go.kr", now=NOW)


def _issue(*, bound: bool = True, idx: int = 0) -> str:
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW))
    holder = _proof() if bound else None
    return issuer.issue(reference_claims(), status=StatusReference(idx, URI), holder=holder).qr_text


BOUND = _issue()
UNBOUND = _issue(bound=False, idx=1)
REVOKED = _issue(idx=2)


def _checker() -> StatusListChecker:
    checker = StatusListChecker(TrustStore([ISSUER.public_key]))
    checker.load(sign_token(pack([0, 0, 1, 0], 2), URI, ISSUER, issued_at=T - 60), T)
    return checker


Make = Callable[..., Verifier | FastVerifier]


@pytest.fixture(params=["reference", "pure", "compiled"])
def make(request: pytest.FixtureRequest) -> Make:
    """The reference verifier, then the fast verifier on each lane."""
    compiled = None if request.param == "reference" else lane_flag(request.param)

    def build(**kwargs: object) -> Verifier | FastVerifier:
        kwargs.setdefault("presentations", PresentationGuard(GATE))
        verifier = Verifier([ISSUER.public_key], clock=fixed_clock(T), status=_checker(), **kwargs)  # type: ignore[arg-type]
        return verifier if compiled is None else FastVerifier(verifier, compiled=compiled)

    return build


def _guard(gate: Verifier | FastVerifier) -> PresentationGuard:
    reference = gate.reference if isinstance(gate, FastVerifier) else gate
    return reference.presentations


def test_fresh_presentation_of_a_bound_credential_is_valid(make: Make) -> None:
    gate = make()
    result = gate.check(present(BOUND, PHONE, now=T - 5))
    assert result.code == Code.VALID
    credential = result.credential
    assert credential is not None and credential.presentation is not None
    assert credential.presentation.presented_at == T - 5
    assert not credential.presentation.challenged
    assert credential.holder_key == PHONE.public_key
    assert credential.claims.name == "김민준"


def test_presented_copy_keeps_every_field_of_the_bare_credential(make: Make) -> None:
    import dataclasses

    presented = make(holder_binding="off").verify(present(BOUND, PHONE, now=T - 5))
    bare = make(holder_binding="off").verify(BOUND)
    assert presented.presentation is not None and bare.presentation is None
    for field in dataclasses.fields(bare):
        if field.name not in {"presentation", "status_list_age"}:
            assert getattr(presented, field.name) == getattr(bare, field.name), field.name
    assert presented.signer == bare.signer


def test_window_is_30_seconds_each_way_plus_leeway(make: Make) -> None:
    gate = make()
    assert gate.check(present(BOUND, PHONE, now=T - 90)).code == Code.VALID
    assert gate.check(present(BOUND, PHONE, now=T + 90)).code == Code.VALID
    assert gate.check(present(BOUND, PHONE, now=T - 91)).code == Code.PRESENTATION_EXPIRED
    assert gate.check(present(BOUND, PHONE, now=T + 91)).code == Code.PRESENTATION_NOT_YET_VALID
    tight = make(presentation_window=5, leeway=0)
    assert tight.check(present(BOUND, PHONE, now=T - 6)).code == Code.PRESENTATION_EXPIRED
    assert tight.check(present(BOUND, PHONE, now=T + 5)).code == Code.VALID


def test_screenshot_replayed_after_the_window_is_expired(make: Make) -> None:
    screenshot = present(BOUND, PHONE, now=NOW + 10)
    assert make().check(screenshot).code == Code.PRESENTATION_EXPIRED


def test_another_device_key_is_device_signature_invalid(make: Make) -> None:
    assert make().check(present(BOUND, THIEF, now=T)).code == Code.DEVICE_SIGNATURE_INVALID


def test_presentation_of_an_unbound_credential_is_holder_key_missing(make: Make) -> None:
    assert make().check(present(UNBOUND, PHONE, now=T)).code == Code.HOLDER_KEY_MISSING


def test_bound_credential_shown_bare_is_presentation_required(make: Make) -> None:
    assert make().check(BOUND).code == Code.PRESENTATION_REQUIRED
    assert make().check(BOUND).code == Code.PRESENTATION_REQUIRED  # and on the cached repeat scan
    assert make().check(UNBOUND).code == Code.VALID  # if-bound: unbound may be bare
    assert make(holder_binding="required").check(UNBOUND).code == Code.PRESENTATION_REQUIRED
    assert make(holder_binding=HolderBinding.OFF).check(BOUND).code == Code.VALID


def test_fast_path_applies_the_policy_on_cache_hits(lane: bool) -> None:
    verifier = Verifier([ISSUER.public_key], clock=fixed_clock(T), status=_checker())
    fast = FastVerifier(verifier, compiled=lane)
    assert fast.check(present(BOUND, PHONE, now=T)).code == Code.VALID  # caches the inner credential
    assert fast.check(BOUND).code == Code.PRESENTATION_REQUIRED
    assert fast.check(BOUND).code == Code.PRESENTATION_REQUIRED


def test_revoked_credential_in_a_fresh_presentation_is_status_revoked(make: Make) -> None:
    assert make().check(present(REVOKED, PHONE, now=T)).code == Code.STATUS_REVOKED


def _tamper(text: str, position: int) -> bytes:
    data = bytearray(qrtext.unpack(text, "GID1:", DEFAULT_LIMITS))
    data[position] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize("position", [-1, -40, -70, 30, 60, 3, 1, 0])
def test_tampered_inner_credential_gives_the_bare_code(make: Make, position: int) -> None:
    forged = _tamper(BOUND, position)
    bare = make(holder_binding="off").check(qrtext.pack(forged, "GID1:")).code
    assert bare != Code.VALID
    assert make().check(present(forged, PHONE, now=T)).code == bare


def test_every_inner_failure_keeps_its_code(make: Make) -> None:
    expired = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW)).issue(
        reference_claims(), status=StatusReference(0, URI), holder=_proof(), expires_at=NOW + 10
    )
    assert make().check(present(expired.qr_text, PHONE, now=T)).code == Code.CWT_EXPIRED
    other = Issuer(THIEF, "KR-MOIS", clock=fixed_clock(NOW)).issue(reference_claims(), holder=_proof())
    assert make().check(present(other.qr_text, PHONE, now=T)).code == Code.KEY_NOT_IN_TRUST_LIST


def test_challenge_answer_is_valid_once(make: Make) -> None:
    gate = make()
    challenge = _guard(gate).challenge(T - 3)
    seen = decode_challenge(challenge.to_text())  # the phone scans the gate's QR
    answer = present(BOUND, PHONE, now=T, challenge=seen)
    result = gate.check(answer)
    assert result.code == Code.VALID
    presented = None if result.credential is None else result.credential.presentation
    assert presented is not None and presented.challenged
    assert presented.gate_id == GATE
    assert gate.check(answer).code == Code.PRESENTATION_REPLAYED
    second = present(BOUND, PHONE, now=T + 1, challenge=seen)  # another answer to the used nonce
    assert gate.check(second).code == Code.PRESENTATION_REPLAYED


def test_wrong_nonce_or_gate_is_challenge_mismatch(make: Make) -> None:
    gate = make()
    issued = _guard(gate).challenge(T)
    unknown = Challenge(bytes(16), GATE, T)
    assert gate.check(present(BOUND, PHONE, now=T, challenge=unknown)).code == Code.CHALLENGE_MISMATCH
    elsewhere = Challenge(issued.nonce, "another-gate", T)
    assert gate.check(present(BOUND, PHONE, now=T, challenge=elsewhere)).code == Code.CHALLENGE_MISMATCH
    # the failures did not use the nonce up: the right answer still passes
    assert gate.check(present(BOUND, PHONE, now=T, challenge=issued)).code == Code.VALID


def test_answer_to_another_gates_challenge_is_refused(make: Make) -> None:
    other = PresentationGuard("gate-b")
    foreign = other.challenge(T)
    assert make().check(present(BOUND, PHONE, now=T, challenge=foreign)).code == Code.CHALLENGE_MISMATCH
    no_id = make(presentations=PresentationGuard())
    assert no_id.check(present(BOUND, PHONE, now=T, challenge=foreign)).code == Code.CHALLENGE_MISMATCH


def test_gate_requiring_challenges_refuses_plain_presentations(make: Make) -> None:
    gate = make(presentations=PresentationGuard(GATE, require_challenge=True))
    assert gate.check(present(BOUND, PHONE, now=T)).code == Code.CHALLENGE_MISMATCH
    answer = present(BOUND, PHONE, now=T, challenge=_guard(gate).challenge(T))
    assert gate.check(answer).code == Code.VALID


def test_expired_challenge_is_forgotten(make: Make) -> None:
    gate = make()
    old = _guard(gate).challenge(T - 1000)
    assert gate.check(present(BOUND, PHONE, now=T, challenge=old)).code == Code.CHALLENGE_MISMATCH


def test_same_presentation_twice_is_replayed_even_through_the_cache(make: Make) -> None:
    gate = make()
    shown = present(BOUND, PHONE, now=T)
    assert gate.check(shown).code == Code.VALID
    assert gate.check(shown).code == Code.PRESENTATION_REPLAYED
    assert gate.check(shown).code == Code.PRESENTATION_REPLAYED
    assert gate.check(present(BOUND, PHONE, now=T + 1)).code == Code.VALID  # a fresh one passes


def _gate_worker(fast: FastVerifier, texts: list[str], start: threading.Barrier, codes: list[Code]) -> None:
    start.wait()
    codes.extend([fast.check(text).code for text in texts])  # list.extend is atomic


def test_threaded_workers_settle_replays_in_one_guard(lane: bool) -> None:
    """Gate workers (one fast verifier per thread, as documented) share one PresentationGuard:
    the same answer shown on every worker at once is VALID exactly once, whatever the timing."""
    guard = PresentationGuard(GATE)
    reference = Verifier([ISSUER.public_key], clock=fixed_clock(T), status=_checker(), presentations=guard)
    workers = 4
    for round_ in range(5):
        answer = present(BOUND, PHONE, now=T - round_, challenge=guard.challenge(T))
        bare = present(BOUND, PHONE, now=T - 10 - round_)
        start, codes = threading.Barrier(workers), list[Code]()
        threads = [
            threading.Thread(
                target=_gate_worker, args=(FastVerifier(reference, compiled=lane), [answer, bare], start, codes)
            )
            for _ in range(workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(codes) == sorted([Code.VALID] * 2 + [Code.PRESENTATION_REPLAYED] * (2 * workers - 2))
    assert guard.outstanding() == 0  # every challenge was answered exactly once


def test_fast_cache_rechecks_status_for_every_presentation(lane: bool) -> None:
    checker = _checker()
    fast = FastVerifier(Verifier([ISSUER.public_key], clock=fixed_clock(T), status=checker), compiled=lane)
    assert fast.check(present(BOUND, PHONE, now=T)).code == Code.VALID
    checker.load(sign_token(pack([1, 0, 1, 0], 2), URI, ISSUER, issued_at=T - 30), T)  # revoked meanwhile
    assert fast.check(present(BOUND, PHONE, now=T + 1)).code == Code.STATUS_REVOKED


def test_replay_cache_and_nonce_book_are_bounded() -> None:
    guard = PresentationGuard(GATE, replay_capacity=4, nonce_capacity=2)
    gate = Verifier([ISSUER.public_key], clock=fixed_clock(T), status=_checker(), presentations=guard)
    first = guard.challenge(T)
    guard.challenge(T)
    guard.challenge(T)  # pushes the first nonce out
    assert guard.outstanding() == 2
    assert gate.check(present(BOUND, PHONE, now=T, challenge=first)).code == Code.CHALLENGE_MISMATCH
    for offset in range(10):
        assert gate.check(present(BOUND, PHONE, now=T - offset)).code == Code.VALID
    assert gate.check(present(BOUND, PHONE, now=T - 9)).code == Code.PRESENTATION_REPLAYED  # the latest stay


def _outer(payload: object, protected: dict[object, object] | None = None, key: Ed25519PrivateKey = PHONE) -> str:
    message = cose.sign1(cbor.dumps(payload), protected or {1: -8}, key.sign)
    return qrtext.pack(message, PRESENTATION_PREFIX)


INNER = qrtext.unpack(BOUND, "GID1:", DEFAULT_LIMITS)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("GIDP2:" + "0" * 30, Code.INVALID_SCHEME_PREFIX),
        (PRESENTATION_PREFIX + "a", Code.BASE45_DECODING_FAILED),
        (PRESENTATION_PREFIX + "0" * 5000, Code.LIMIT_EXCEEDED),
        (PRESENTATION_PREFIX + "00000000", Code.DECOMPRESSION_FAILED),
        (_outer({1: INNER, 2: T}, {1: -8, 4: PHONE.kid}), Code.COSE_MALFORMED),
        (_outer({1: INNER, 2: T}, {1: -7}), Code.UNSUPPORTED_ALGORITHM),
        (_outer({1: INNER, 2: T, 5: 1}), Code.CLAIMS_INVALID),
        (_outer({1: INNER}), Code.CLAIMS_INVALID),
        (_outer({1: INNER, 2: T, 3: bytes(16)}), Code.CLAIMS_INVALID),
        (_outer({1: INNER, 2: T, 3: bytes(15), 4: GATE}), Code.CLAIMS_INVALID),
        (_outer({1: INNER, 2: -5}), Code.CLAIMS_INVALID),
        (_outer([INNER, T]), Code.CLAIMS_INVALID),
        (_outer({1: b"\xff", 2: T}), Code.CBOR_MALFORMED),
        (_outer({1: b"\x01", 2: T}), Code.COSE_MALFORMED),
    ],
)
def test_outer_layers_fail_with_the_pipeline_codes(make: Make, text: str, code: Code) -> None:
    assert make().check(text).code == code


def test_hostile_mutations_always_end_in_one_code(make: Make) -> None:
    gate = make()
    shown = present(BOUND, PHONE, now=T)
    rng = random.Random(12)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for _ in range(150):
        chars = list(shown)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(PRESENTATION_PREFIX), len(chars))] = rng.choice(alphabet)
        result = gate.check("".join(chars))
        assert result.code in Code  # a result, never an exception


def test_sizes_of_the_reference_presentation() -> None:
    assert len(BOUND) <= 702 and (plan(BOUND)["Q"] or 99) <= 20
    bare = present(BOUND, PHONE, now=T)
    challenged = present(BOUND, PHONE, now=T, challenge=Challenge(bytes(16), "g" * 64, T))
    assert len(bare) < len(challenged) <= PRESENTATION_BUDGET_CHARS
    assert (plan(challenged)["Q"] or 99) <= 22


def test_presentation_parses_back() -> None:
    challenge = Challenge(bytes(range(16)), GATE, T)
    parsed = decode_presentation(present(BOUND, PHONE, now=T, challenge=challenge))
    assert parsed.credential == INNER and parsed.presented_at == T
    assert parsed.nonce == bytes(range(16)) and parsed.gate_id == GATE
    PHONE.public_key.verify(parsed.to_be_signed, parsed.signature)


def test_challenge_codec_round_trips_and_refuses_garbage() -> None:
    challenge = Challenge.new(GATE, T)
    assert decode_challenge(challenge.to_text()) == challenge
    assert decode_challenge(challenge.to_text().encode()) == challenge
    assert Challenge.new(GATE, T).nonce != challenge.nonce
    from vcsdk.codec import base45

    for text, code in [
        ("GIDX1:00", Code.INVALID_SCHEME_PREFIX),
        ("GIDC1:a", Code.BASE45_DECODING_FAILED),
        ("GIDC1:" + "0" * 300, Code.LIMIT_EXCEEDED),
        ("GIDC1:" + base45.b45encode(cbor.dumps({1: bytes(16), 2: GATE, 3: T, 4: 0})), Code.CLAIMS_INVALID),
        ("GIDC1:" + base45.b45encode(cbor.dumps({1: bytes(8), 2: GATE, 3: T})), Code.CLAIMS_INVALID),
        ("GIDC1:" + base45.b45encode(cbor.dumps({1: bytes(16), 2: "", 3: T})), Code.CLAIMS_INVALID),
        ("GIDC1:" + base45.b45encode(b"\xa1\x01"), Code.CBOR_MALFORMED),
    ]:
        with pytest.raises(VCError) as info:
            decode_challenge(text)
        assert info.value.code == code


def test_misuse_raises_usage_errors() -> None:
    with pytest.raises(UsageError):
        Challenge(bytes(16), "g" * 65, T)
    with pytest.raises(UsageError):
        present(BOUND, PHONE, now=-1)
    with pytest.raises(UsageError):
        Verifier([ISSUER.public_key], holder_binding="sometimes")
    with pytest.raises(UsageError):
        PresentationGuard().challenge(T)
    assert HolderBinding.IF_BOUND.tighten(HolderBinding.OFF) is HolderBinding.IF_BOUND
    assert HolderBinding.IF_BOUND.tighten(HolderBinding.REQUIRED) is HolderBinding.REQUIRED


def test_issuance_binds_only_a_proved_key() -> None:
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW))
    with pytest.raises(UsageError):
        issuer.issue(reference_claims(), holder=PHONE.public_key)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        issuer.issue(reference_claims(), holder=_proof(), holder_key=THIEF.public_key)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["GIDP1:", "GIDC1:"]))
def test_decoders_turn_any_bytes_into_one_vc_error(data: bytes, prefix: str) -> None:
    """h11's fuzz invariant: parsed, or one VCError, never anything else."""
    from vcsdk.codec import base45

    for text in (prefix + base45.b45encode(data), prefix + base45.b45encode(zlib_of(data))):
        try:
            if prefix == "GIDP1:":
                decode_presentation(text)
            else:
                decode_challenge(text)
        except VCError:
            pass


def zlib_of(data: bytes) -> bytes:
    from vcsdk.codec import deflate

    return deflate.compress(data)


def _shown(credential: str | bytes = BOUND, key: Ed25519PrivateKey = PHONE, **kwargs: object) -> str:
    return present(credential, key, now=kwargs.pop("now", T), **kwargs)  # type: ignore[arg-type]


Texts = Callable[[PresentationGuard], list[str]]


def _agreement_cases() -> list[tuple[str, Code, Texts, str]]:
    forged = _tamper(BOUND, -1)
    unknown = Challenge(bytes(16), GATE, T)
    return [
        ("fresh", Code.VALID, lambda g: [_shown()], "if-bound"),
        ("expired", Code.PRESENTATION_EXPIRED, lambda g: [_shown(now=T - 500)], "if-bound"),
        ("future", Code.PRESENTATION_NOT_YET_VALID, lambda g: [_shown(now=T + 500)], "if-bound"),
        ("other device", Code.DEVICE_SIGNATURE_INVALID, lambda g: [_shown(key=THIEF)], "if-bound"),
        ("wrong nonce", Code.CHALLENGE_MISMATCH, lambda g: [_shown(challenge=unknown)], "if-bound"),
        ("wrong gate", Code.CHALLENGE_MISMATCH,
         lambda g: [_shown(challenge=Challenge(g.challenge(T).nonce, "x", T))], "if-bound"),
        ("answer twice", Code.PRESENTATION_REPLAYED, lambda g: [_shown(challenge=g.challenge(T))] * 2, "if-bound"),
        ("bare bound", Code.PRESENTATION_REQUIRED, lambda g: [BOUND], "if-bound"),
        ("bare under required", Code.PRESENTATION_REQUIRED, lambda g: [UNBOUND], "required"),
        ("unbound presented", Code.HOLDER_KEY_MISSING, lambda g: [_shown(UNBOUND)], "if-bound"),
        ("tampered inner", Code.SIGNATURE_INVALID, lambda g: [_shown(forged)], "if-bound"),
        ("revoked inner", Code.STATUS_REVOKED, lambda g: [_shown(REVOKED)], "if-bound"),
    ]  # fmt: skip


def test_fast_path_and_reference_agree_on_every_holder_binding_code(lane: bool) -> None:
    for name, expected, texts, binding in _agreement_cases():
        codes = []
        for fast in (False, True):
            guard = PresentationGuard(GATE)
            verifier = Verifier(
                [ISSUER.public_key],
                clock=fixed_clock(T),
                status=_checker(),
                presentations=guard,
                holder_binding=binding,
            )
            gate: Verifier | FastVerifier = FastVerifier(verifier, compiled=lane) if fast else verifier
            codes.append([gate.check(text).code for text in texts(guard)][-1])
        assert codes == [expected, expected], name


def test_bound_credentials_have_the_larger_budget() -> None:
    from vcsdk.errors import QRSizeBudgetExceeded

    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW))
    varied = "".join(chr(0xAC00 + (i * 389) % 11172) for i in range(30))  # Hangul that does not compress
    longer = {**reference_claims(), "unit": varied}
    with pytest.raises(QRSizeBudgetExceeded, match="574"):
        issuer.issue(longer, status=StatusReference(0, URI))
    bound = issuer.issue(longer, status=StatusReference(0, URI), holder=_proof()).qr_text
    assert 574 < len(bound) <= 702
    much_longer = {**longer, "agency": varied[::-1] + varied}
    with pytest.raises(QRSizeBudgetExceeded, match="bound budget of 702"):
        issuer.issue(much_longer, status=StatusReference(0, URI), holder=_proof())


def gate_at_t() -> Verifier:
    """Module level: picklable as a ParallelVerifier factory (one process per worker)."""
    return Verifier([ISSUER.public_key], clock=fixed_clock(T), status=_checker())


def test_parallel_workers_settle_replays_in_one_book() -> None:
    # batches of one over two workers: each worker has its own guard, so only the pool's shared
    # book can tell that the second and third copies are replays
    from vcsdk import ParallelVerifier, VerifiedCredential

    answer, other = present(BOUND, PHONE, now=T - 5), present(BOUND, PHONE, now=T - 4)
    third = present(BOUND, PHONE, now=T - 3)
    with ParallelVerifier[VerifiedCredential](gate_at_t, workers=2, batch_size=1, clock=fixed_clock(T)) as pool:
        codes = [r.code for r in pool.check_many([answer, answer, other, answer], T)]
        assert codes == [Code.VALID, Code.PRESENTATION_REPLAYED, Code.VALID, Code.PRESENTATION_REPLAYED]
        assert pool.check(other, T).code == Code.PRESENTATION_REPLAYED
        lines = list(pool.check_many_json([third, third, third, BOUND, "junk"]))
    codes = [line["code"] for line in lines]
    assert codes == ["VALID"] + ["PRESENTATION_REPLAYED"] * 2 + ["PRESENTATION_REQUIRED", "INVALID_SCHEME_PREFIX"]
    assert lines[0]["valid"] is True and lines[1]["valid"] is False and lines[1]["claims"] is None
