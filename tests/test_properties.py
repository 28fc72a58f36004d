"""Property tests: round trips, single-character corruption, schema/typed-check agreement."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, REFERENCE_STATUS, SEED, reference_claims
from vcsdk import Ed25519PrivateKey, Issuer, OfficialID, StatusPolicy, Verifier, fixed_clock
from vcsdk.codec.base45 import ALPHABET
from vcsdk.errors import CREDENTIAL_ERRORS, ClaimsInvalid, CredentialInvalid, QRSizeBudgetExceeded
from vcsdk.profiles.official_id import KEYS
from vcsdk.profiles.schema import official_id_violations

KEY = Ed25519PrivateKey(SEED)
ISSUER = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW))
VERIFIER = Verifier(
    [KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN, require_status=False
)

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
LATIN = st.characters(codec="ascii", min_codepoint=0x20, max_codepoint=0x7E)


def nfc_text(max_size: int) -> st.SearchStrategy[str]:
    return (
        st.text(HANGUL | LATIN, min_size=1, max_size=max_size)
        .map(lambda s: unicodedata.normalize("NFC", s))
        .filter(lambda s: 0 < len(s) <= max_size)
    )


valid_claims = st.fixed_dictionaries(
    {
        "name": nfc_text(8),
        "birth_date": st.dates(date(1930, 1, 1), date(2010, 12, 31)).map(date.isoformat),
        "agency_code": st.integers(1_000_000, 9_999_999),
        "agency": nfc_text(12),
        "rank": nfc_text(8),
        "employee_id": st.text(LATIN, min_size=1, max_size=16),
        "photo_digest": st.binary(min_size=16, max_size=16).map(bytes.hex),
    },
    optional={"name_latin": st.text(LATIN, min_size=1, max_size=20), "unit": nfc_text(16), "position": nfc_text(6)},
)


@settings(max_examples=150, deadline=None)
@given(valid_claims)
def test_any_valid_claims_round_trip(claims: dict[str, Any]) -> None:
    try:
        credential = ISSUER.issue(claims)
    except QRSizeBudgetExceeded:
        assume(False)
        return
    result = VERIFIER.verify(credential.qr_text)
    assert result.claims.to_json() == claims


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=10_000),
    replacement=st.sampled_from(ALPHABET + "abcxyz:=\n\t\x00é김"),
)
def test_any_single_character_change_is_rejected_with_a_vcerror(position: int, replacement: str) -> None:
    text = ISSUER.issue(reference_claims(), status=REFERENCE_STATUS, credential_id=bytes(16)).qr_text
    position %= len(text)
    assume(text[position] != replacement)
    changed = text[:position] + replacement + text[position + 1 :]
    result = VERIFIER.check(changed)  # raises only on misuse, never on hostile input
    assert not result.valid, f"a changed QR text verified (position {position}, {replacement!r})"
    assert result.code in CREDENTIAL_ERRORS


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=40), st.integers(min_value=0, max_value=600))
def test_any_byte_string_spliced_into_the_text_is_rejected(junk: bytes, position: int) -> None:
    text = ISSUER.issue(reference_claims(), credential_id=bytes(16)).qr_text
    position %= len(text)
    changed = text[:position] + junk.decode("latin-1") + text[position:]
    try:
        VERIFIER.verify(changed)
    except CredentialInvalid:
        return
    raise AssertionError("spliced QR text verified")


# ------------------------------------------------------------- schema vs typed check

MAX = {"name": 50, "name_latin": 100, "agency": 100, "unit": 100, "rank": 50, "position": 50, "employee_id": 32}

any_text = st.one_of(
    st.text(HANGUL | LATIN, max_size=8).map(lambda s: unicodedata.normalize("NFC", s)),
    st.text(st.characters(max_codepoint=0xA0), max_size=3),  # control characters, NBSP
    st.integers(50, 102).map(lambda n: "가" * n),  # around the length caps
    st.integers(),
)


@st.composite
def claim_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[int, Any]]:
    """The same (possibly invalid) claims in JSON form and in CBOR form."""
    json_form: dict[str, Any] = {}
    cbor_form: dict[int, Any] = {}
    for name, key in KEYS.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # absent
        if name == "birth_date":
            birth: date | int = draw(st.dates(date(1, 1, 1), date(9999, 12, 31)) | st.integers(0, 10))
            json_form[name] = birth.isoformat() if isinstance(birth, date) else birth
            cbor_form[key] = birth
        elif name == "agency_code":
            code: int | str = draw(st.integers(0, 20_000_000) | st.booleans() | st.just("1741000"))
            json_form[name] = code
            cbor_form[key] = code
        elif name == "photo_digest":
            raw = draw(st.binary(min_size=14, max_size=18))
            json_form[name] = raw.hex()
            cbor_form[key] = raw
        else:
            text: str | int = draw(any_text)
            json_form[name] = text
            cbor_form[key] = text
    if draw(st.integers(0, 9)) == 0:
        json_form["extra"] = 1
        cbor_form[11] = 1
    return json_form, cbor_form


@settings(max_examples=500, deadline=None)
@given(claim_pairs())
def test_schema_and_typed_check_agree(pair: tuple[dict[str, Any], dict[int, Any]]) -> None:
    json_form, cbor_form = pair
    schema_ok = not official_id_violations(json_form)
    try:
        OfficialID.from_cbor(cbor_form)
        typed_ok = True
    except ClaimsInvalid:
        typed_ok = False
    assert schema_ok == typed_ok, (json_form, official_id_violations(json_form))


def test_length_caps_match_the_schema() -> None:
    from vcsdk.profiles.schema import load_schema

    properties = load_schema("official-id.schema.json")["properties"]
    assert {name: properties[name]["maxLength"] for name in MAX} == MAX


# ------------------------------------------------------------------ fuzz invariant

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.text(max_size=8) | st.binary(max_size=70),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.integers(-70000, 70000), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_any_inflated_bytes_give_a_verdict_never_an_exception(data: bytes) -> None:
    """h11's invariant: any input is verified or refused with a code; nothing else escapes."""
    from tests import forge

    result = VERIFIER.check(forge.text_from_zlib(__import__("zlib").compress(data)))
    assert not result.valid
    assert result.code in CREDENTIAL_ERRORS


@settings(max_examples=400, deadline=None)
@given(cbor_values, cbor_values, cbor_values)
def test_fuzz_structured_cose_messages_give_a_verdict(protected: Any, unprotected: Any, payload: Any) -> None:
    import cbor2

    from tests import forge

    protected_bytes = cbor2.dumps(protected) if not isinstance(protected, bytes) else protected
    payload_bytes = cbor2.dumps(payload) if not isinstance(payload, bytes) else payload
    message = cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, unprotected, payload_bytes, bytes(64)]))
    result = VERIFIER.check(forge.text_from_cose(message))
    assert not result.valid
    assert result.code in CREDENTIAL_ERRORS


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(-70000, 70000), cbor_values, max_size=8))
def test_fuzz_signed_payloads_give_a_verdict(extra: dict[int, Any]) -> None:
    """Correctly signed but arbitrary claims reach the claims checks and get a code."""
    from tests import forge

    claims = {**forge.claims(), **extra}
    result = VERIFIER.check(forge.text(claims))
    assert result.code in CREDENTIAL_ERRORS or result.valid
