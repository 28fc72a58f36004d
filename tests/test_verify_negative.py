"""The negative suite: at least one case per DESIGN section 4 row, each asserting the exact code.

Every case is built by tests/forge.py so that it reaches exactly the step it targets.
"""

from __future__ import annotations

import pytest

from tests import forge
from tests.conftest import NOW
from tests.negative_cases import (
    CASES,
    KEY,
    OTHER,
    Case,
    code_of,
    forge_limits,
    raw_sign1,
    reference_signature,
    verifier,
)
from vcsdk import (
    Code,
    Ed25519PublicKey,
    StatusCheck,
    StatusPolicy,
    StatusReference,
    TrustedKey,
    Verifier,
    fixed_clock,
)
from vcsdk.codec import cbor, qrtext
from vcsdk.errors import StatusUnknown


def test_the_forge_baseline_is_valid() -> None:
    assert code_of(forge.text()) == Code.VALID


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_negative(case: Case) -> None:
    assert code_of(case.text(), case.verifier()) == case.code


def test_within_leeway_is_accepted() -> None:
    assert code_of(forge.text(forge.claims(iat=NOW + 60, exp=NOW + 9999))) == Code.VALID
    assert code_of(forge.text(forge.claims(iat=NOW - 9999, exp=NOW - 59))) == Code.VALID
    assert code_of(forge.text(forge.claims(nbf=NOW + 60))) == Code.VALID


def test_kid_in_unprotected_only_is_accepted() -> None:
    assert code_of(forge.text(protected={1: -8}, unprotected={4: KEY.kid})) == Code.VALID


def test_protected_header_bytes_used_exactly_as_received() -> None:
    """A non-canonical protected header that was signed as sent verifies."""
    odd = b"\xa2\x01\x38\x07\x04\x48" + KEY.kid
    assert code_of(forge.text(protected_bytes=odd)) == Code.VALID


def test_several_keys_share_a_kid_every_one_is_tried() -> None:
    impostor = Ed25519PublicKey(OTHER.public_key.raw, kid=KEY.kid)
    v = verifier(impostor, KEY.public_key)
    assert code_of(forge.text(), v) == Code.VALID
    assert code_of(forge.text(), verifier(impostor)) == Code.SIGNATURE_INVALID


@pytest.mark.parametrize("position", range(64))
def test_every_flipped_signature_byte_is_refused(position: int) -> None:
    signature = bytearray(reference_signature())
    for bit in range(8):
        flipped = bytearray(signature)
        flipped[position] ^= 1 << bit
        assert code_of(forge.text(signature=bytes(flipped))) == Code.SIGNATURE_INVALID


def test_every_flipped_payload_bit_is_refused() -> None:
    payload = cbor.dumps(forge.claims())
    signature = reference_signature()
    codes: dict[Code, int] = {}
    for position in range(len(payload)):
        for bit in range(8):
            flipped = bytearray(payload)
            flipped[position] ^= 1 << bit
            code = code_of(forge.text(bytes(flipped), signature=signature))
            codes[code] = codes.get(code, 0) + 1
    assert Code.VALID not in codes
    assert set(codes) <= {Code.SIGNATURE_INVALID, Code.CBOR_MALFORMED, Code.LIMIT_EXCEEDED}
    assert codes[Code.SIGNATURE_INVALID] > sum(codes.values()) // 2


# ---------------------------------------------------------------------- status seam


class FakeStatus:
    """A StatusChecker double answering a fixed value per index (the real one is issue 3's)."""

    def __init__(self, values: dict[int, int], known_uri: str = "https://id.mois.go.kr/sl/7") -> None:
        self.values = values
        self.known_uri = known_uri
        self.calls: list[tuple[StatusReference, int]] = []

    def check(self, reference: StatusReference, now: int, *, issuer: str, signer: TrustedKey) -> StatusCheck:
        assert issuer == "KR-MOIS" and signer.key == KEY.public_key  # the credential's own issuer and key
        self.calls.append((reference, now))
        if reference.uri != self.known_uri or reference.idx not in self.values:
            raise StatusUnknown("no list")
        return StatusCheck(self.values[reference.idx], reference.uri, NOW - 600)


STATUS = {"status_list": {"idx": 7, "uri": "https://id.mois.go.kr/sl/7"}}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0, Code.VALID),
        (1, Code.STATUS_REVOKED),
        (2, Code.STATUS_SUSPENDED),
        (3, Code.STATUS_NEEDS_RENEWAL),
        (5, Code.STATUS_UNKNOWN),
    ],
)
def test_status_seam(value: int, code: Code) -> None:
    checker = FakeStatus({7: value})
    v = Verifier([KEY.public_key], clock=fixed_clock(NOW), status=checker)
    result = v.check(forge.text(forge.claims(status=STATUS)))
    assert result.code == code
    assert checker.calls == [(StatusReference(7, "https://id.mois.go.kr/sl/7"), NOW)]
    if code == Code.VALID:
        assert result.credential is not None
        assert result.credential.status_check == StatusCheck(0, "https://id.mois.go.kr/sl/7", NOW - 600)
        assert result.credential.status_list_age == 600


def test_status_fail_closed_by_default_and_allow_unknown_on_request() -> None:
    text = forge.text(forge.claims(status=STATUS))
    assert Verifier([KEY.public_key], clock=fixed_clock(NOW)).check(text).code == Code.STATUS_UNKNOWN
    checker = FakeStatus({}, known_uri="https://elsewhere")
    assert Verifier([KEY.public_key], clock=fixed_clock(NOW), status=checker).check(text).code == Code.STATUS_UNKNOWN
    lenient = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    result = lenient.check(text)
    assert result.valid
    assert result.credential is not None
    assert result.credential.status == StatusReference(7, "https://id.mois.go.kr/sl/7")
    assert result.credential.status_check is None


def test_status_checked_only_after_the_credential_verified() -> None:
    checker = FakeStatus({7: 1})
    v = Verifier([KEY.public_key], clock=fixed_clock(NOW), status=checker)
    assert v.check(forge.text(forge.claims(status=STATUS), signature=bytes(64))).code == Code.SIGNATURE_INVALID
    assert v.check(forge.text(forge.claims(status=STATUS, iat=NOW - 999, exp=NOW - 100))).code == Code.CWT_EXPIRED
    assert checker.calls == []


def test_no_status_claim_means_no_status_check() -> None:
    checker = FakeStatus({})
    v = Verifier([KEY.public_key], clock=fixed_clock(NOW), status=checker, require_status=False)
    result = v.check(forge.text(forge.claims(status=None)))
    assert result.valid
    assert checker.calls == []


def test_status_claim_required_by_default_for_the_official_id() -> None:
    """#11.4: a credential without a status claim could never be revoked."""
    text = forge.text(forge.claims(status=None))
    v = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    assert v.check(text).code == Code.STATUS_CLAIM_MISSING
    assert not v.check(text)


def test_validity_span_is_bounded_by_policy() -> None:
    """#11.4: a 100-year credential is refused; three years plus leeway is the default bound."""
    century = forge.text(forge.claims(exp=NOW + 100 * 365 * 86400))
    assert code_of(century) == Code.CLAIMS_INVALID
    three_years = forge.text(forge.claims(iat=NOW - 100, exp=NOW - 100 + (3 * 365 + 1) * 86400 + 60))
    assert code_of(three_years) == Code.VALID
    one_more = forge.text(forge.claims(iat=NOW - 100, exp=NOW - 100 + (3 * 365 + 1) * 86400 + 61))
    assert code_of(one_more) == Code.CLAIMS_INVALID
    assert code_of(century, verifier(max_validity=None)) == Code.VALID


def test_bytes_input_from_a_scanner_is_accepted() -> None:
    assert code_of(forge.text().encode("ascii")) == Code.VALID


def test_raw_sign1_helper_builds_a_valid_message() -> None:
    assert code_of(forge.text_from_cose(raw_sign1(b"\xa0"))) == Code.VALID
    assert qrtext.unpack(forge.text(), "GID1:", forge_limits())[:1] == b"\xd2"
