"""The compiled lane's C claims reader (``vcsdk/_native/claims.c``): whatever it accepts, the Python
checks accept with an equal result; what it leaves to them is only ever slower, never different.

The property tests feed it payloads the strict decoder and ``parse_claims`` decide on: claim values
swapped for hostile ones (wrong types, control and bidi characters, decomposed Hangul, Hanja,
out-of-range dates and codes, tags, nested maps), keys added and removed, and byte-level changes of
a real payload (flips, truncation, insertion). Either side may refuse; the C side may never accept
what Python refuses, nor return a different value.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from tests.conftest import lane_flag, reference_claims
from vcsdk import Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import base45, deflate
from vcsdk.codec.cbor import StrictDecoder
from vcsdk.errors import CredentialInvalid, PresentationRequired
from vcsdk.limits import DEFAULT_LIMITS, Limits
from vcsdk.profiles.official_id import OFFICIAL_ID_CLAIM
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify.checks import PAYLOAD_TAGS, CWTClaims, parse_claims
from vcsdk.verify.fast import FastVerifier, split_sign1

NOW = 1_780_000_000
KEY = Ed25519PrivateKey(bytes(range(32)))
STATUS = StatusReference(1234, "https://id.mois.go.kr/sl/7")


@pytest.fixture(scope="module")
def lane() -> Any:
    """A C context with the default limits (skipped loudly, or failed under
    VCSDK_REQUIRE_NATIVE=1, when the compiled module is not built)."""
    lane_flag("compiled")
    from vcsdk.verify.native import NativeLane

    return NativeLane(DEFAULT_LIMITS, "GID1:")


def _payload(text: str) -> bytes:
    data = deflate.decompress(base45.b45decode(text.split(":", 1)[1]), DEFAULT_LIMITS.max_inflated_bytes)
    parts = split_sign1(data)
    assert parts is not None
    return parts[1]


def _issued(**options: Any) -> str:
    claims = options.pop("claims", reference_claims())
    issuer = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW - 60))
    return issuer.issue(claims, **options).qr_text


DECODER = StrictDecoder(DEFAULT_LIMITS, PAYLOAD_TAGS)


def _python(payload: bytes) -> CWTClaims | None:
    try:
        return parse_claims(DECODER.decode(payload))
    except CredentialInvalid:
        return None


def _agrees(lane: Any, payload: bytes) -> CWTClaims | None:
    """The C reader's result, after checking it against the Python checks."""
    native: CWTClaims | None = lane.claims(payload)
    python = _python(payload)
    if native is not None:
        assert native == python, payload.hex()
    if currently_in_test_context():  # --hypothesis-show-statistics: how often each side accepted
        event(f"python {'accepts' if python else 'refuses'}, C {'reads' if native else 'leaves it'}")
    return native


def _tagged(value: Any) -> Any:
    """Dates as tag 100 (days since 1970-01-01), as the issuers write them (cbor2 writes tag 1004)."""
    if isinstance(value, date):
        return cbor2.CBORTag(100, (value - date(1970, 1, 1)).days)
    if isinstance(value, dict):
        return {k: _tagged(v) for k, v in value.items()}
    return value


def _dumps(value: Any, canonical: bool = True) -> bytes:
    return cbor2.dumps(_tagged(value), canonical=canonical)


def _base() -> dict[Any, Any]:
    value: dict[Any, Any] = cbor2.loads(_payload(_issued(status=STATUS)))
    return value


# ------------------------------------------------------------------ what it reads


def test_issued_credentials_are_read_in_c_with_the_python_result(lane: Any) -> None:
    minimal = {k: v for k, v in reference_claims().items() if k not in ("name_latin", "unit", "position")}
    cases = [
        _issued(status=STATUS),
        _issued(),  # no status claim
        _issued(claims=minimal, status=STATUS),  # no optional official-ID field
        _issued(status=StatusReference(0, "u")),
        _issued(status=STATUS, not_before=NOW - 30),
        _issued(claims={**reference_claims(), "birth_date": "1955-01-01"}, status=STATUS),  # before 1970
        _issued(claims={**reference_claims(), "name": "A" * 50, "agency": "가" * 100}, status=STATUS),
    ]
    for text in cases:
        payload = _payload(text)
        native = _agrees(lane, payload)
        assert native is not None, payload.hex()
    first = lane.claims(_payload(cases[0]))
    assert first.official.name == "김민준" and first.status == STATUS and first.cnf is None


def test_what_it_leaves_to_the_python_checks(lane: Any) -> None:
    """Each of these is valid for the Python checks but outside the C subset: None, never a refusal."""
    base = _base()
    official = base[OFFICIAL_ID_CLAIM]
    holder = Ed25519PrivateKey.generate().public_key
    bound = cbor2.loads(_payload(_issued(status=STATUS, holder_key=holder)))
    leave = {
        "holder key with an alg member": {**bound, 8: {1: {**bound[8][1], 3: -8}}},
        "Hanja in a name": {**base, OFFICIAL_ID_CLAIM: {**official, 1: "金敏俊"}},
        "middle dot": {**base, OFFICIAL_ID_CLAIM: {**official, 8: "주무관·팀장"}},
        "negative iat": {**base, 6: -5, 4: 10},
        "iat at 2^62": {**base, 6: 2**62, 4: 2**62 + 1},
    }
    for why, value in leave.items():
        payload = _dumps(value)
        assert _python(payload) is not None, why
        assert lane.claims(payload) is None, why
    payload = _payload(_issued(status=STATUS))
    assert payload[0] == 0xA6
    longer = b"\xb8\x06" + payload[1:]  # the same map with a one-byte count: not the shortest head
    assert _python(longer) == lane.claims(payload) and lane.claims(longer) is None


def test_tight_limits_leave_the_payload_to_the_strict_decoder() -> None:
    lane_flag("compiled")
    from vcsdk.verify.native import NativeLane

    text = _issued(status=STATUS)
    assert NativeLane(DEFAULT_LIMITS, "GID1:").claims(_payload(text)) is not None
    tight = Limits(max_cbor_depth=2)
    assert NativeLane(tight, "GID1:").claims(_payload(text)) is None
    trust = TrustStore([KEY.public_key])
    fast = FastVerifier(Verifier(trust, limits=tight, clock=fixed_clock(NOW)), compiled=True)
    result = fast.check(text)
    assert not result.valid and result.code == "LIMIT_EXCEEDED"


def test_the_compiled_lane_skips_the_python_claim_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The canonical credential verifies without parse_claims; a holder-bound one still uses it."""
    lane_flag("compiled")
    import vcsdk.verify.verifier as verifier_module

    checker = StatusListChecker(TrustStore([KEY.public_key]))
    checker.load(sign_token(pack([0] * 2048, 2), STATUS.uri, KEY, issued_at=NOW - 60), NOW)
    reference = Verifier([KEY.public_key], clock=fixed_clock(NOW), status=checker)
    text = _issued(status=STATUS)
    bound = _issued(status=STATUS, holder_key=Ed25519PrivateKey.generate().public_key)
    expected = reference.verify(text)
    calls: list[object] = []
    real = parse_claims

    def counted(payload: object) -> CWTClaims:
        calls.append(payload)
        return real(payload)

    monkeypatch.setattr(verifier_module, "parse_claims", counted)
    fast = FastVerifier(reference, compiled=True, cache_size=0)
    assert fast.verify(text) == expected and calls == []
    with pytest.raises(PresentationRequired):  # the holder key read in C too, then refused bare
        fast.verify(bound)
    assert calls == []
    assert fast.check(bound).code == "PRESENTATION_REQUIRED"  # the reference names it: Python claims
    assert len(calls) == 1


DROP = object()


def _with(official: dict[int, Any] | None = None, **top: Any) -> bytes:
    """The base payload with official-ID fields and top-level claims replaced (``k6=`` sets key 6);
    an official-ID field set to ``DROP`` is removed."""
    base = _base()
    merged = {**base[OFFICIAL_ID_CLAIM], **(official or {})}
    base[OFFICIAL_ID_CLAIM] = {key: value for key, value in merged.items() if value is not DROP}
    base.update({int(name[1:].replace("_", "-")): value for name, value in top.items()})
    return _dumps(base)


def _text_bytes(raw: bytes, where: str = "name") -> bytes:
    """A payload whose name (official key 1), or iss, is the raw UTF-8-or-not bytes ``raw``."""
    marker = "\ue000" * 3  # a placeholder the base never holds
    payload = _with({1: marker}) if where == "name" else _with(k1=marker)
    encoded = cbor2.dumps(marker)
    assert payload.count(encoded) == 1
    head = cbor2.dumps("x" * len(raw))[: -len(raw)] if raw else b"\x60"
    return payload.replace(encoded, head + raw)


P_BYTES = (2**255 - 19).to_bytes(32, "little")
IAT = 1_779_999_940  # the base's iat (issued at NOW - 60)
BOUNDARIES: list[tuple[str, bytes, bool, bool]] = [
    # (what, payload, the Python checks accept, the C reader reads)
    ("name of 50 characters", _with({1: "가" * 50}), True, True),
    ("name of 51 characters", _with({1: "가" * 51}), False, False),
    ("employee_id of 32", _with({9: "9" * 32}), True, True),
    ("employee_id of 33", _with({9: "9" * 33}), False, False),
    ("agency of 100", _with({5: "a" * 100}), True, True),
    ("agency of 101", _with({5: "a" * 101}), False, False),
    ("empty rank", _with({7: ""}), False, False),
    ("U+001F", _with({1: "a\x1fb"}), False, False),
    ("U+0020 and U+007E", _with({1: " ~"}), True, True),
    ("U+007F", _with({1: "a\x7f"}), False, False),
    ("U+ABFF", _with({1: "\uabff"}), True, False),
    ("U+AC00 and U+D7A3", _with({1: "\uac00\ud7a3"}), True, True),
    ("U+D7A4", _with({1: "\ud7a4"}), True, False),
    ("decomposed Hangul", _with({1: "\u1100\u1161"}), False, False),
    ("Hangul filler", _with({1: "\u3164"}), False, False),
    ("overlong '/'", _text_bytes(b"\xc0\xaf"), False, False),
    ("overlong 3-byte", _text_bytes(b"\xe0\x80\xaf"), False, False),
    ("UTF-8 surrogate", _text_bytes(b"\xed\xa0\x80"), False, False),
    ("above U+10FFFF", _text_bytes(b"\xf4\x90\x80\x80"), False, False),
    ("truncated sequence", _text_bytes(b"\xea\xb0"), False, False),
    ("lone continuation byte", _text_bytes(b"\x80"), False, False),
    ("iss: UTF-8 surrogate", _text_bytes(b"\xed\xa0\x80", "iss"), False, False),
    ("iss: above U+10FFFF", _text_bytes(b"\xf4\x90\x80\x80", "iss"), False, False),
    ("iss: U+10FFFF", _text_bytes(b"\xf4\x8f\xbf\xbf", "iss"), True, True),
    ("iss: U+E000 after the surrogates", _text_bytes(b"\xee\x80\x80", "iss"), True, True),
    ("iss: overlong 4-byte", _text_bytes(b"\xf0\x80\x80\xaf", "iss"), False, False),
    ("agency_code 999999", _with({4: 999_999}), False, False),
    ("agency_code 1000000", _with({4: 1_000_000}), True, True),
    ("agency_code 9999999", _with({4: 9_999_999}), True, True),
    ("agency_code 10000000", _with({4: 10_000_000}), False, False),
    ("birth 0001-01-01", _with({3: date(1, 1, 1)}), True, True),
    ("birth 9999-12-31", _with({3: date(9999, 12, 31)}), True, True),
    ("birth before 0001-01-01", _with({3: cbor2.CBORTag(100, -719163)}), False, False),
    ("birth after 9999-12-31", _with({3: cbor2.CBORTag(100, 2932897)}), False, False),
    ("birth as tag 1004", _with({3: cbor2.CBORTag(1004, "1988-04-17")}), False, False),
    ("birth untagged", _with({3: 6681}), False, False),
    ("photo_digest of 15 bytes", _with({10: b"x" * 15}), False, False),
    ("photo_digest of 17 bytes", _with({10: b"x" * 17}), False, False),
    ("exp equal to iat", _with(k4=IAT), False, False),
    ("exp one after iat", _with(k4=IAT + 1), True, True),
    ("nbf present", _with(k5=IAT), True, True),
    ("cti of 15 bytes", _with(k7=b"c" * 15), False, False),
    ("status idx 2^62 - 1", _with(k65535={"status_list": {"idx": 2**62 - 1, "uri": "u"}}), True, True),
    ("status idx 2^62", _with(k65535={"status_list": {"idx": 2**62, "uri": "u"}}), True, False),
    ("status idx -1", _with(k65535={"status_list": {"idx": -1, "uri": "u"}}), False, False),
    ("status uri empty", _with(k65535={"status_list": {"idx": 1, "uri": ""}}), False, False),
    ("status with a third member", _with(k65535={"status_list": {"idx": 1, "uri": "u", "x": 1}}), False, False),
    ("unknown official key 11", _with({11: "x"}), False, False),
    ("unknown official key 11 holding 16 bytes", _with({11: b"d" * 16}), False, False),
    ("official key 0", _with({0: "x"}), False, False),
    ("official key 0 holding 16 bytes", _with({0: b"d" * 16, 8: DROP}), False, False),
    ("official key 11 holding 16 bytes", _with({11: b"d" * 16, 8: DROP}), False, False),
    ("ten official fields and an eleventh", _with({11: "x"}), False, False),
    ("without position", _with({8: DROP}), True, True),
    ("without name", _with({1: DROP}), False, False),
    ("unknown claim 2", _with(k2="x"), False, False),
    ("empty iss", _with(k1=""), False, False),
    ("iss as bytes", _with(k1=b"KR-MOIS"), False, False),
    ("iat as a float", _with(k6=float(IAT)), False, False),
    ("iat as tag 1", _with(k6=cbor2.CBORTag(1, IAT)), False, False),
    ("a trailing byte", _with() + b"\x00", False, False),
    ("holder key", _with(k8={1: {1: 1, -1: 6, -2: KEY.public_key.raw}}), True, True),
    ("holder key of 31 bytes", _with(k8={1: {1: 1, -1: 6, -2: KEY.public_key.raw[:31]}}), False, False),
    ("holder key of small order", _with(k8={1: {1: 1, -1: 6, -2: bytes(32)}}), False, False),
    ("holder key y = p (non-canonical)", _with(k8={1: {1: 1, -1: 6, -2: P_BYTES}}), False, False),
    ("holder key on curve X25519 (crv 4)", _with(k8={1: {1: 1, -1: 4, -2: KEY.public_key.raw}}), False, False),
    ("holder key outside label 1", _with(k8={2: {1: 1, -1: 6, -2: KEY.public_key.raw}}), False, False),
    ("one byte short", _with()[:-1], False, False),
]


@pytest.mark.parametrize(("what", "payload", "python", "native"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_boundaries(lane: Any, what: str, payload: bytes, python: bool, native: bool) -> None:
    assert (_python(payload) is not None) is python
    assert (_agrees(lane, payload) is not None) is native


# ------------------------------------------------------------------ properties

_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
        st.sampled_from(
            [
                "\x00", "\x1f", "\x7f", "\x85", "\u00b7", "\u1100", "\u1161", "\u11a8", "\u115f", "\u200b",
                "\u202e", "\u2028", "\u3164", "\ufeff", "\uffa0", "\u0301", "金", "😀", "\U0010ffff",
            ]
        ),
    ),
    max_size=110,
)  # fmt: skip
_VALUES = st.one_of(
    _TEXT,
    st.integers(min_value=-(2**64), max_value=2**64),
    st.binary(max_size=40),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.builds(cbor2.CBORTag, st.sampled_from([1, 100, 101]), st.integers(min_value=-(10**7), max_value=10**7)),
    st.dictionaries(st.sampled_from(["idx", "uri", "status_list", "x"]), st.integers(min_value=-2, max_value=9)),
    st.lists(st.integers(), max_size=3),
)
_TOP_KEYS = st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 65535, -65537, -65536, "iss"])
_OFFICIAL_KEYS = st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1, "name"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    top=st.dictionaries(_TOP_KEYS, _VALUES, max_size=3),
    drop_top=st.sets(_TOP_KEYS, max_size=2),
    official=st.dictionaries(_OFFICIAL_KEYS, _VALUES, max_size=3),
    drop_official=st.sets(_OFFICIAL_KEYS, max_size=2),
    status=st.one_of(st.none(), st.tuples(st.integers(min_value=-3, max_value=2**63), _TEXT)),
    canonical=st.booleans(),
)
def test_changed_claims_never_accepted_in_c_when_python_refuses(
    lane: Any,
    top: dict[Any, Any],
    drop_top: set[Any],
    official: dict[Any, Any],
    drop_official: set[Any],
    status: tuple[int, str] | None,
    canonical: bool,
) -> None:
    base = _base()
    inner = {k: v for k, v in {**base[OFFICIAL_ID_CLAIM], **official}.items() if k not in drop_official}
    value = {k: v for k, v in {**base, **top}.items() if k not in drop_top}
    if OFFICIAL_ID_CLAIM not in top and OFFICIAL_ID_CLAIM not in drop_top:
        value[OFFICIAL_ID_CLAIM] = inner
    if status is not None and 65535 not in top:
        value[65535] = {"status_list": {"uri": status[1], "idx": status[0]}}
    try:
        payload = _dumps(value, canonical)
    except (TypeError, ValueError, OverflowError):
        return
    _agrees(lane, payload)


@settings(max_examples=400, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255), st.integers(0, 2)), max_size=4))
def test_byte_level_changes_never_accepted_in_c_when_python_refuses(
    lane: Any, edits: list[tuple[int, int, int]]
) -> None:
    data = bytearray(_payload(_issued(status=STATUS)))
    for position, byte, kind in edits:
        position %= len(data) + 1
        if kind == 0 and position < len(data):
            data[position] = byte
        elif kind == 1:
            data.insert(position, byte)
        else:
            del data[position:]
        if not data:
            break
    _agrees(lane, bytes(data))


@settings(max_examples=300, deadline=None)
@given(name=_TEXT, unit=_TEXT)
def test_text_checks_match_python_for_any_text(lane: Any, name: str, unit: str) -> None:
    """Text of printable ASCII and Hangul syllables within the length is read in C; anything the
    Python checks refuse (controls, fillers, decomposed jamo, too long) is never accepted."""
    base = _base()
    base[OFFICIAL_ID_CLAIM] = {**base[OFFICIAL_ID_CLAIM], 1: name, 6: unit}
    payload = _dumps(base)
    native = _agrees(lane, payload)
    safe = all(" " <= c <= "~" or "\uac00" <= c <= "\ud7a3" for c in name + unit)
    if safe and 0 < len(name) <= 50 and 0 < len(unit) <= 100:
        assert native is not None
        assert unicodedata.is_normalized("NFC", name + unit)
