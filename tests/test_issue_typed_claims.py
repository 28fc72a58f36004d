"""Issuance claim checks: the typed JSON checks agree with the JSON Schema on generated claim sets
(schema verdict == typed verdict), and whatever they accept issues a credential that verifies."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, SEED, reference_claims
from vcsdk import Ed25519PrivateKey, Issuer, OfficialID, StatusPolicy, Verifier, fixed_clock
from vcsdk.errors import IssuanceClaimsInvalid, QRSizeBudgetExceeded
from vcsdk.profiles.official_id import KEYS, typed_from_json
from vcsdk.profiles.schema import official_id_violations

KEY = Ed25519PrivateKey(SEED)
ISSUER = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW))
VERIFIER = Verifier(
    [KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN, require_status=False
)
SPOOFING = (
    "\x00\t\n\r\x1f\x7f\x85\x9f\u061c\u115f\u1160\u180e\u200b\u200d\u200e\u200f"
    "\u2028\u202e\u2060\u2064\u2066\u2069\u3164\ufeff\uffa0\ud800\udfff"
)
BORDER = "\u2065\u202f\u2010\u00a0 ~"  # just outside the refused ranges: allowed

plain_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xD7A3), max_size=6)
texts = st.one_of(
    plain_text,
    st.text(st.sampled_from("가나A1 " + SPOOFING + BORDER), max_size=4),
    st.builds(lambda body, end: body + end, plain_text, st.sampled_from(["\n", "\r\n", "\x00", "", " "])),
    st.integers(0, 105).map(lambda n: "가" * n),
    st.integers(0, 105).map(lambda n: "A" * n),
    st.sampled_from([None, 0, 1.5, True, b"bytes", ["list"], {"a": 1}]),
)
dates = st.one_of(
    st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["1988-02-30", "1988-4-17", "19880417", "1988-04-17\n", "1988-04-17 ", "١٩٨٨-٠٤-١٧", "0000-01-01"]),
    st.sampled_from([None, 19880417, "", date(1988, 4, 17)]),
)
codes = st.one_of(
    st.integers(999_990, 1_000_010),
    st.integers(9_999_990, 10_000_010),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1741000.0, 1741000.5, 1e6, 1e7, True, False, "1741000", None, 0]),
)
digests = st.one_of(
    st.binary(min_size=15, max_size=17).map(bytes.hex),
    st.binary(min_size=16, max_size=16).map(lambda raw: raw.hex().upper()),
    st.binary(min_size=16, max_size=16).map(lambda raw: raw.hex() + "\n"),
    st.sampled_from([None, "", "g" * 32, 16, "0f1e2d3c4b5a69788796a5b4c3d2e1f0 "]),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {"birth_date": dates, "agency_code": codes, "photo_digest": digests}


@st.composite
def claim_sets(draw: st.DrawFn) -> dict[Any, Any]:
    """The reference claims with some fields dropped, replaced or added (valid more often than not)."""
    claims: dict[Any, Any] = dict(reference_claims())
    for name in KEYS:
        roll = draw(st.integers(0, 9))
        if roll == 0:
            claims.pop(name, None)
        elif roll <= 3:
            claims[name] = draw(VALUES.get(name, texts))
    if draw(st.integers(0, 14)) == 0:
        claims[draw(st.sampled_from(["extra", "Name", "name ", 1, ""]))] = "x"
    return claims


@settings(max_examples=2000, deadline=None)
@given(claim_sets())
def test_typed_verdict_equals_schema_verdict(claims: dict[Any, Any]) -> None:
    normalised = {k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in claims.items()}
    violations = official_id_violations(normalised)
    typed = typed_from_json(normalised)
    assert (typed is not None) == (not violations), (normalised, violations)


@settings(max_examples=150, deadline=None)
@given(claim_sets())
def test_what_issuance_accepts_verifies_with_the_same_claims(claims: dict[Any, Any]) -> None:
    normalised = {k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in claims.items()}
    violations = official_id_violations(normalised)
    if violations:
        with pytest.raises(IssuanceClaimsInvalid) as caught:
            ISSUER.issue(claims)
        assert caught.value.details == tuple(violations)  # a refusal lists the schema's violations
        return
    try:
        credential = ISSUER.issue(claims)
    except QRSizeBudgetExceeded:  # valid claims too long for the QR budget: another refusal
        return
    assert VERIFIER.verify(credential.qr_text).claims == credential.claims


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "김민준\n"),  # Python's "$" matches before a final newline; JSON Schema's does not
        ("rank", "행정주사\n"),
        ("photo_digest", "0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"),
        ("birth_date", "1988-04-17\n"),
        ("agency_code", 1741000.5),
        ("agency_code", True),
        ("name", "\ud800"),  # a lone surrogate: not encodable as UTF-8 (it used to crash the encoder)
    ],
)
def test_values_the_verifier_would_refuse_are_refused_at_issuance(field: str, value: object) -> None:
    with pytest.raises(IssuanceClaimsInvalid) as caught:
        ISSUER.issue({**reference_claims(), field: value})
    assert any(detail.startswith(field) for detail in caught.value.details)


def test_an_integral_float_agency_code_is_issued_as_an_integer() -> None:
    credential = ISSUER.issue({**reference_claims(), "agency_code": 1741000.0})
    verified = VERIFIER.verify(credential.qr_text).claims
    assert type(verified.agency_code) is int and verified.agency_code == 1741000


def test_the_typed_path_builds_the_same_claims_as_before() -> None:
    official = typed_from_json(reference_claims())
    assert official is not None and official.to_json() == reference_claims()
    assert OfficialID.from_json(official.to_json()) == official
