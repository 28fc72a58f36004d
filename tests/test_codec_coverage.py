"""Branches of the codec layer and of status-list decoding that the scenario tests do not reach.

Each test names the rule it pins down; together with the other suites they take ``vcsdk/codec/``,
``vcsdk/revocation/bitlist.py`` and ``vcsdk/revocation/token.py`` to full branch coverage (the
few defensive lines left are listed with their reason in docs/fuzzing.md).
"""

from __future__ import annotations

import zlib
from typing import Any

import cbor2
import pytest

from tests.conftest import NOW, SEED
from vcsdk import DEFAULT_LIMITS, Ed25519PrivateKey, TrustStore
from vcsdk.codec import base45, cose, cwt
from vcsdk.errors import (
    Base45DecodingFailed,
    ClaimsInvalid,
    COSEMalformed,
    DecompressionFailed,
    KeyNotInTrustList,
    LimitExceeded,
    PublicKeyCompromised,
    UnsupportedAlgorithm,
    UsageError,
)
from vcsdk.keys import b64url_encode
from vcsdk.limits import Limits
from vcsdk.revocation import StatusList, StatusListBuilder, pack, sign_token, verify_token
from vcsdk.revocation.token import TYP, read_token_unverified
from vcsdk.trust.store import KeyState, TrustedKey

KEY = Ed25519PrivateKey(SEED)
URI = "https://id.mois.go.kr/sl/7"


# ------------------------------------------------------------------------ Base45


@pytest.mark.parametrize("value", [b"QED8WEX0", None, 45])
def test_base45_refuses_what_is_not_text(value: Any) -> None:
    with pytest.raises(Base45DecodingFailed, match="must be text"):
        base45.b45decode(value)


# ------------------------------------------------------------------------ COSE


@pytest.mark.parametrize("size", [23, 24, 255, 256, 65535, 65536, 70_000])
def test_sig_structure_bstr_heads_match_cbor2(size: int) -> None:
    """Sig_structure is built by hand; every bstr head length must equal a real CBOR encoding."""
    payload = bytes(size)
    expected = cbor2.dumps(["Signature1", b"\xa1\x01\x27", b"", payload])
    assert cose.sig_structure(b"\xa1\x01\x27", payload) == expected


@pytest.mark.parametrize("label", [1.5, b"\x01", True, None])
def test_crit_labels_must_be_integers_or_text(label: Any) -> None:
    protected = cbor2.dumps({1: -8, 2: [label]})
    data = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, b"", b""]))
    with pytest.raises(COSEMalformed, match="crit labels"):
        cose.decode_sign1(data, DEFAULT_LIMITS)


def test_from_cbor_value_checks_the_tag_itself() -> None:
    """A caller that decoded the outer CBOR itself still gets the tag rule."""
    with pytest.raises(COSEMalformed, match="tag 98"):
        cose.from_cbor_value(cbor2.CBORTag(98, [b"", {}, b"", b""]), DEFAULT_LIMITS)
    untagged = cose.from_cbor_value([b"", {}, b"p", b"s"], DEFAULT_LIMITS, require_tag=False)
    assert untagged.tagged is False and untagged.payload == b"p"


@pytest.mark.parametrize("protected", ["text", None, 0, [], {}])
def test_protected_header_must_be_a_byte_string(protected: Any) -> None:
    data = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, b"", b""]))
    with pytest.raises(COSEMalformed, match="protected header must be a byte string"):
        cose.decode_sign1(data, DEFAULT_LIMITS)


# ------------------------------------------------------------------------ status claim


@pytest.mark.parametrize(
    "value",
    [
        {"status_list": [1, "u"]},
        {"status_list": {"idx": 1}},
        {"status_list": {"idx": 1, "uri": "u", "x": 0}},
        {"status_list": {"idx": 1, "url": "u"}},
    ],
)
def test_status_list_member_must_be_exactly_idx_and_uri(value: Any) -> None:
    with pytest.raises(ClaimsInvalid, match='exactly "idx" and "uri"'):
        cwt.StatusReference.from_cbor(value)


# ------------------------------------------------------------------------ status list codec


def test_aggregation_uri_round_trips_in_both_forms() -> None:
    listed = StatusList(2, bytes([0b11100100]), "https://id.mois.go.kr/sl/all")
    assert listed.to_cbor()["aggregation_uri"] == "https://id.mois.go.kr/sl/all"
    assert StatusList.from_cbor(listed.to_cbor()) == listed
    assert listed.to_json()["aggregation_uri"] == "https://id.mois.go.kr/sl/all"
    assert StatusList.from_json(listed.to_json()) == listed
    assert "aggregation_uri" not in pack([1], 2).to_cbor()


def test_aggregation_uri_must_be_text() -> None:
    with pytest.raises(ClaimsInvalid, match="aggregation_uri must be text"):
        StatusList.from_cbor({"bits": 1, "lst": zlib.compress(b"\x00"), "aggregation_uri": b"uri"})


@pytest.mark.parametrize("lst", ["not base64url!", "AAA=", "A"])
def test_json_lst_must_be_unpadded_base64url(lst: str) -> None:
    with pytest.raises(ClaimsInvalid):
        StatusList.from_json({"bits": 1, "lst": lst})


@pytest.mark.parametrize("value", [{"bits": 1, "lst": 5}, {"bits": 1}, "lst", None])
def test_json_form_needs_an_object_with_text_lst(value: Any) -> None:
    with pytest.raises(ClaimsInvalid):
        StatusList.from_json(value)


def test_json_lst_that_is_not_zlib_is_a_decompression_failure() -> None:
    with pytest.raises(DecompressionFailed):
        StatusList.from_json({"bits": 1, "lst": b64url_encode(b"not zlib")})


@pytest.mark.parametrize("size", [0, -1, 1.5, True])
def test_builder_needs_a_positive_integer_size(size: Any) -> None:
    with pytest.raises(UsageError):
        StatusListBuilder(size, 2)


def test_get_outside_the_list_is_an_index_error() -> None:
    status_list = pack([0, 1, 2, 3], 2)
    assert status_list.size == 4
    with pytest.raises(IndexError):
        status_list.get(4)
    with pytest.raises(IndexError):
        status_list.get(-1)


# ------------------------------------------------------------------------ Status List Tokens


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"uri": ""}, "URI"),
        ({"expires_at": NOW - 1}, "expires_at"),
        ({"ttl": 0}, "ttl"),
        ({"ttl": 1.5}, "ttl"),
    ],
)
def test_sign_token_refuses_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    options: dict[str, Any] = {"uri": URI, "issued_at": NOW}
    options.update(kwargs)
    uri = options.pop("uri")
    with pytest.raises(UsageError, match=match):
        sign_token(pack([0], 2), uri, KEY, **options)


def _signed(protected: dict[int, Any], claims: dict[int, Any] | None = None) -> bytes:
    payload = claims if claims is not None else {2: URI, 6: NOW, 65533: pack([0], 2).to_cbor()}
    return cose.sign1(cbor2.dumps(payload), protected, KEY.sign)


def test_token_without_alg_or_kid() -> None:
    trust = TrustStore([KEY.public_key])
    with pytest.raises(UnsupportedAlgorithm):
        verify_token(_signed({4: KEY.kid, 16: TYP}), trust, now=NOW)
    with pytest.raises(KeyNotInTrustList, match="no kid"):
        verify_token(_signed({1: -8, 16: TYP}), trust, now=NOW)


def test_token_signed_by_a_compromised_key_is_refused() -> None:
    trust = TrustStore([TrustedKey(KEY.public_key, state=KeyState.COMPROMISED)])
    with pytest.raises(PublicKeyCompromised):
        verify_token(sign_token(pack([0], 2), URI, KEY, issued_at=NOW), trust, now=NOW)


@pytest.mark.parametrize(
    ("claims", "match"),
    [
        ([1, 2], "must be a map"),
        ({2: URI, 6: NOW, 4: "later", 65533: {}}, "exp must be an integer"),
        ({2: URI, 6: NOW, 65534: -5, 65533: {}}, "ttl must be a positive integer"),
        ({2: URI, 6: NOW}, "no status_list claim"),
        ({2: "", 6: NOW, 65533: {}}, "sub"),
        ({2: URI, 6: "now", 65533: {}}, "iat"),
    ],
)
def test_token_claims_are_typed(claims: Any, match: str) -> None:
    with pytest.raises(ClaimsInvalid, match=match):
        read_token_unverified(cose.sign1(cbor2.dumps(claims), {1: -8, 4: KEY.kid, 16: TYP}, KEY.sign))


def test_read_token_unverified_caps_the_size_and_reads_a_valid_token() -> None:
    token = sign_token(pack([2, 1], 2), URI, KEY, issued_at=NOW, ttl=60)
    read = read_token_unverified(token)
    assert (read.uri, read.issued_at, read.ttl, read.status_list.get(0)) == (URI, NOW, 60, 2)
    with pytest.raises(LimitExceeded):
        read_token_unverified(token, limits=Limits(max_status_list_bytes=len(token) - 1))


# ------------------------------------------------------------------------ base64url (finding)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("AB CD", "space skipped by the standard library"),
        ("AB\nCD", "newline skipped"),
        ("AB!!CD", "non-alphabet characters skipped"),
        ("AB+/", "standard alphabet, not base64url"),
        ("ABC", "non-zero padding bits: 'ABA' is the canonical spelling of the same bytes"),
    ],
)
def test_base64url_is_canonical_only(text: str, why: str) -> None:
    """Regression (found while covering bitlist.from_json): ``b64url_decode`` accepted junk.

    ``base64.urlsafe_b64decode`` drops characters outside the alphabet, so a JWKS ``x`` or a
    status list ``lst`` had many spellings; now only the canonical one is accepted.
    """
    from vcsdk.errors import KeyInvalid, TrustSourceInvalid
    from vcsdk.keys import b64url_decode

    with pytest.raises(KeyInvalid):
        b64url_decode(text, "x")
    with pytest.raises(ClaimsInvalid):
        StatusList.from_json({"bits": 1, "lst": text})
    x = b64url_encode(KEY.public_key.raw)
    spoofed = x[:8] + " " + x[8:] if " " in text else x[:8] + text[2:3] + x[8:] if "!" in text else x + "\n"
    with pytest.raises(TrustSourceInvalid):
        TrustStore.from_jwks({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": spoofed}]})


# ------------------------------------------------------------------------ remaining branches


def test_unprotected_header_must_be_a_map() -> None:
    data = cbor2.dumps(cbor2.CBORTag(18, [b"", [], b"", b""]))
    with pytest.raises(COSEMalformed, match="unprotected header must be a map"):
        cose.decode_sign1(data, DEFAULT_LIMITS)


@pytest.mark.parametrize("data", [b"\xdc\x00", b"\xd9\x00", b"\xdb\x00\x00"])
def test_malformed_leading_tag_head_is_left_to_the_cbor_decoder(data: bytes) -> None:
    """A reserved (28-31) or truncated tag head is not a COSE tag: the CBOR decoder names it."""
    from vcsdk.errors import CBORMalformed

    with pytest.raises(CBORMalformed):
        cose.decode_sign1(data, DEFAULT_LIMITS)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [(RecursionError(), "LIMIT_EXCEEDED"), (MemoryError(), "LIMIT_EXCEEDED"), (OverflowError("x"), "CBOR_MALFORMED"),
     (LookupError("x"), "CBOR_MALFORMED"), (TypeError("x"), "CBOR_MALFORMED")],
)  # fmt: skip
def test_decoder_resource_errors_become_one_vcerror(
    raised: BaseException, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: whatever cbor2 raises (its pure-Python decoder can recurse) ends in one VCError."""
    from vcsdk.codec import cbor as strict
    from vcsdk.errors import VCError

    class Exploding:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def decode(self) -> Any:
            raise raised

    monkeypatch.setattr(cbor2, "CBORDecoder", Exploding)
    with pytest.raises(VCError) as caught:
        strict.loads_strict(b"\x80", DEFAULT_LIMITS)
    assert caught.value.code == expected


def test_counts_skip_zero_bytes_and_json_without_aggregation() -> None:
    status_list = pack([0] * 8 + [1, 0, 0, 3], 2)
    assert status_list.data[:2] == b"\x00\x00"
    assert status_list.counts() == {1: 1, 3: 1}
    assert set(status_list.to_json()) == {"bits", "lst"}


def test_token_alg_not_the_keys_and_token_from_the_future() -> None:
    from vcsdk.errors import CWTNotYetValid

    trust = TrustStore([KEY.public_key])
    with pytest.raises(UnsupportedAlgorithm, match="not the algorithm of the key"):
        verify_token(_signed({1: -7, 4: KEY.kid, 16: TYP}), trust, now=NOW)
    future = sign_token(pack([0], 2), URI, KEY, issued_at=NOW + 61)
    with pytest.raises(CWTNotYetValid):
        verify_token(future, trust, now=NOW)
    assert verify_token(sign_token(pack([0], 2), URI, KEY, issued_at=NOW + 60), trust, now=NOW).issued_at == NOW + 60
