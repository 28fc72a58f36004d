"""Issuance: the reference official ID end to end, schema errors, size budget, envelope."""

from __future__ import annotations

import unicodedata

import pytest

from tests.conftest import NOW, REFERENCE_STATUS, reference_claims
from vcsdk import (
    Code,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    IssuedCredential,
    Issuer,
    OfficialID,
    StatusPolicy,
    StatusReference,
    Verifier,
    fixed_clock,
)
from vcsdk.errors import IssuanceClaimsInvalid, QRSizeBudgetExceeded, UsageError
from vcsdk.issue.issuer import DEFAULT_VALIDITY_SECONDS
from vcsdk.keys import ECPublicKey
from vcsdk.profiles.official_id import KEYS


def test_reference_official_id_fits_qr_version_18_at_ecc_q(issuer: Issuer) -> None:
    credential = issuer.issue(reference_claims(), status=REFERENCE_STATUS)
    size = len(credential.qr_text)
    print(
        f"reference official ID: {size} characters (budget 574 = QR version 18, ECC Q); COSE {len(credential.cose)} B"
    )
    assert credential.qr_text.startswith("GID1:")
    assert size <= 574


def test_round_trip_of_the_reference(issuer: Issuer, verifier: Verifier, reference_text: str) -> None:
    result = verifier.verify(reference_text)
    assert result.claims == OfficialID.from_json(reference_claims())
    assert result.claims.to_json() == reference_claims()
    assert result.issuer == "KR-MOIS"
    assert result.kid == issuer.kid
    assert result.status == REFERENCE_STATUS
    assert result.expires_at - result.issued_at == DEFAULT_VALIDITY_SECONDS
    assert result.issued_at == NOW
    assert len(result.credential_id) == 16
    assert result.trust_source == "keys"


def test_issued_credential_describes_itself(issuer: Issuer) -> None:
    credential = issuer.issue(reference_claims(), not_before=NOW + 10, expires_at=NOW + 100)
    assert isinstance(credential, IssuedCredential)
    assert credential.not_before == NOW + 10
    assert credential.expires_at == NOW + 100
    assert credential.status is None
    assert credential.kid == issuer.kid
    other = issuer.issue(reference_claims())
    assert other.credential_id != credential.credential_id  # 16 random bytes each time


def test_every_claim_violation_is_listed(issuer: Issuer) -> None:
    bad = {**reference_claims(), "agency_code": 12, "photo_digest": "XYZ", "rank": "", "shoe_size": 270}
    del bad["name"]
    with pytest.raises(IssuanceClaimsInvalid) as info:
        issuer.issue(bad)
    details = "\n".join(info.value.details)
    assert info.value.code == Code.CLAIMS_INVALID
    assert len(info.value.details) == 5
    for fragment in ("agency_code", "photo_digest", "rank", "shoe_size", "'name' is a required property"):
        assert fragment in details


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birth_date", "1988-02-30"),
        ("birth_date", "88-04-17"),
        ("agency_code", "1741000"),
        ("agency_code", 17410000),
        ("photo_digest", "0F1E2D3C4B5A69788796A5B4C3D2E1F0"),
        ("name", "김" * 51),
        ("employee_id", "x" * 33),
        ("name", "tab\there"),
    ],
)
def test_schema_rejects(issuer: Issuer, field: str, value: object) -> None:
    with pytest.raises(IssuanceClaimsInvalid):
        issuer.issue({**reference_claims(), field: value})


def test_text_is_nfc_normalised_at_issuance(issuer: Issuer, verifier: Verifier) -> None:
    decomposed = unicodedata.normalize("NFD", "김민준")
    assert decomposed != "김민준"
    credential = issuer.issue({**reference_claims(), "name": decomposed})
    assert verifier.verify(credential.qr_text).claims.name == "김민준"


def test_optional_claims_may_be_absent(issuer: Issuer, verifier: Verifier) -> None:
    minimal = {k: v for k, v in reference_claims().items() if k not in ("name_latin", "unit", "position")}
    result = verifier.verify(issuer.issue(minimal).qr_text)
    assert result.claims.unit is None
    assert result.claims.to_json() == minimal


def test_official_id_object_is_accepted(issuer: Issuer, verifier: Verifier) -> None:
    official = OfficialID.from_json(reference_claims())
    assert verifier.verify(issuer.issue(official).qr_text).claims == official


def test_over_budget_is_refused_with_a_clear_error(issuer: Issuer) -> None:
    varied = "".join(chr(0xAC00 + (i * 389) % 11172) for i in range(100))  # Hangul that does not compress
    long = {**reference_claims(), "unit": varied, "agency": varied[::-1]}
    with pytest.raises(QRSizeBudgetExceeded) as info:
        issuer.issue(long, status=REFERENCE_STATUS)
    assert "574" in info.value.message
    assert info.value.code == Code.QR_SIZE_BUDGET_EXCEEDED


def test_holder_device_key_round_trips(issuer: Issuer, issuer_key: Ed25519PrivateKey) -> None:
    # bare bound credentials pass only with holder binding off (a gate wants a presentation)
    verifier = Verifier(
        [issuer_key.public_key],
        clock=fixed_clock(NOW + 10),
        status_policy=StatusPolicy.ALLOW_UNKNOWN,
        require_status=False,
        holder_binding="off",
    )
    phone = Ed25519PrivateKey.generate().public_key
    result = verifier.verify(issuer.issue(reference_claims(), holder_key=phone).qr_text)
    assert result.holder_key == phone
    from cryptography.hazmat.primitives.asymmetric import ec

    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    secure_enclave = ECPublicKey("P-256", numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big"))
    minimal = {k: v for k, v in reference_claims().items() if k not in ("name_latin", "unit", "position")}
    assert verifier.verify(issuer.issue(minimal, holder_key=secure_enclave).qr_text).holder_key == secure_enclave


@pytest.mark.parametrize(
    "kwargs",
    [
        {"issued_at": -1},
        {"expires_at": NOW - 1},
        {"not_before": NOW + DEFAULT_VALIDITY_SECONDS},
        {"credential_id": b"short"},
        {"issued_at": "yesterday"},
    ],
)
def test_bad_envelope_is_refused(issuer: Issuer, kwargs: dict[str, object]) -> None:
    with pytest.raises(IssuanceClaimsInvalid):
        issuer.issue(reference_claims(), **kwargs)  # type: ignore[arg-type]


def test_issuer_construction_errors() -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(UsageError):
        Issuer(key, "")
    with pytest.raises(UsageError):
        Issuer(key, "KR-MOIS", validity_seconds=0)
    with pytest.raises(UsageError):
        Issuer(key.public_key, "KR-MOIS")  # type: ignore[arg-type]


def test_status_reference_validation() -> None:
    from vcsdk.errors import ClaimsInvalid

    with pytest.raises(ClaimsInvalid):
        StatusReference(-1, "https://x")
    with pytest.raises(ClaimsInvalid):
        StatusReference(1, "")


def test_json_and_cbor_forms_cover_every_field() -> None:
    official = OfficialID.from_json(reference_claims())
    assert set(official.to_json()) == set(KEYS)
    assert set(official.to_cbor()) == set(KEYS.values())


def test_verify_raises_and_check_returns(issuer: Issuer) -> None:
    from vcsdk.errors import CWTExpired

    text = issuer.issue(reference_claims(), expires_at=NOW + 100).qr_text
    late = Verifier(
        [issuer_key_public(issuer)],
        clock=fixed_clock(NOW + 1000),
        status_policy=StatusPolicy.ALLOW_UNKNOWN,
        require_status=False,
    )
    with pytest.raises(CWTExpired):
        late.verify(text)
    assert late.verify_at(text, NOW).claims.name == "김민준"
    result = late.check(text)
    assert (result.valid, result.code, result.kid) == (False, Code.CWT_EXPIRED, issuer.kid)
    assert result.to_json() == {
        "valid": False,
        "code": "CWT_EXPIRED",
        "message": result.message,
        "kid": issuer.kid.hex(),
        "claims": None,
    }
    with pytest.raises(UsageError):
        late.verify_at(text, "now")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        late.check(12345)  # type: ignore[arg-type]


def issuer_key_public(issuer: Issuer) -> Ed25519PublicKey:
    from tests.conftest import SEED

    key = Ed25519PrivateKey(SEED)
    assert key.kid == issuer.kid
    return key.public_key


def test_wire_format_test_vector_matches_the_docs() -> None:
    """docs/wire-format.md section 7: the reference COSE_Sign1, reproducible byte for byte."""
    import re

    from tests.conftest import ROOT, SEED

    doc = (ROOT / "docs" / "wire-format.md").read_text(encoding="utf-8")
    block = re.search(r"## 7\. Test vector.*?```\n(.*?)```", doc, flags=re.DOTALL)
    assert block is not None
    expected = bytes.fromhex(block.group(1).replace("\n", ""))
    issuer = Issuer(Ed25519PrivateKey(SEED), "KR-MOIS", clock=fixed_clock(NOW))
    credential = issuer.issue(reference_claims(), status=REFERENCE_STATUS, credential_id=bytes(16))
    assert credential.cose == expected
    assert (
        Verifier([Ed25519PrivateKey(SEED).public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
        .verify(credential.qr_text)
        .claims.name
        == "김민준"
    )
