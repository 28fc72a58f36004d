"""Status List Tokens and the gate's checker: the draft's signed example, then every refusal."""

from __future__ import annotations

import zlib
from typing import Any

import cbor2
import pytest

from tests import forge
from tests.conftest import NOW, SEED, load_conformance_json
from vcsdk import Code, Ed25519PrivateKey, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import cbor, cose
from vcsdk.errors import (
    ClaimsInvalid,
    COSEMalformed,
    CWTExpired,
    KeyNotInTrustList,
    LimitExceeded,
    PublicKeyCompromised,
    PublicKeyExpired,
    PublicKeyNotYetValid,
    SignatureInvalid,
    StatusUnknown,
    UnsupportedAlgorithm,
    UsageError,
)
from vcsdk.keys import ECPublicKey
from vcsdk.limits import Limits
from vcsdk.revocation import Freshness, StatusList, StatusListChecker, pack, sign_token, verify_token
from vcsdk.revocation.token import TYP
from vcsdk.trust.store import KeyState, TrustedKey

KEY = Ed25519PrivateKey(SEED)
TRUST = TrustStore([KEY.public_key])
SIGNER = TRUST.candidates(KEY.kid)[0]
URI = "https://id.mois.go.kr/sl/7"
DRAFT_IAT = 1686920170


def draft() -> dict[str, Any]:
    tokens: dict[str, Any] = load_conformance_json("ietf-status-list", "vectors.json")["tokens"]
    return tokens


def draft_trust() -> TrustStore:
    return TrustStore([ECPublicKey.from_jwk(draft()["example_key"])])


def _token(**overrides: Any) -> bytes:
    kwargs: dict[str, Any] = {"issued_at": NOW - 100, "expires_at": NOW + 7 * 86400, "ttl": 3600}
    kwargs.update(overrides)
    return sign_token(pack([0, 1, 2, 3] * 4, 2), URI, KEY, **kwargs)


def test_our_token_round_trips() -> None:
    token = verify_token(_token(), TRUST, now=NOW)
    assert (token.uri, token.issued_at, token.ttl, token.kid) == (URI, NOW - 100, 3600, KEY.kid)
    message = cose.decode_sign1(_token(), Limits())
    assert message.protected[16] == TYP
    assert message.alg == -8


def _resigned(claims: dict[Any, Any], protected: dict[Any, Any] | None = None) -> bytes:
    header = protected or {1: -8, 4: KEY.kid, 16: TYP}
    return cose.sign1(cbor.dumps(claims), header, KEY.sign)


def _claims(**changes: Any) -> dict[Any, Any]:
    claims: dict[Any, Any] = {2: URI, 6: NOW - 100, 4: NOW + 86400, 65534: 3600, 65533: pack([1], 2).to_cbor()}
    for key, value in changes.items():
        number = int(key[1:])
        if value is None:
            claims.pop(number)
        else:
            claims[number] = value
    return claims


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (lambda: _token()[:-1] + bytes([_token()[-1] ^ 1]), SignatureInvalid),
        (lambda: sign_token(pack([1], 2), URI, Ed25519PrivateKey.generate(), issued_at=NOW), KeyNotInTrustList),
        (lambda: _token(issued_at=NOW - 9000, expires_at=NOW - 100), CWTExpired),
        (lambda: _resigned(_claims(), {1: -8, 4: KEY.kid}), COSEMalformed),  # typ missing
        (lambda: _resigned(_claims(), {1: -8, 4: KEY.kid, 16: "application/cwt"}), COSEMalformed),
        (lambda: _resigned(_claims(k2=None)), ClaimsInvalid),  # no sub
        (lambda: _resigned(_claims(k6="yesterday")), ClaimsInvalid),
        (lambda: _resigned(_claims(k65534=0)), ClaimsInvalid),
        (lambda: _resigned(_claims(k65533=None)), ClaimsInvalid),
        (lambda: _resigned(_claims(k65533={"bits": 3, "lst": pack([1], 2).compressed()})), ClaimsInvalid),
        (
            lambda: _resigned(_claims(k65533={"bits": 2, "lst": zlib.compress(bytes(8_000_000))})),
            LimitExceeded,
        ),
        (lambda: cbor2.dumps(cbor2.CBORTag(61, cbor2.loads(_token()))), COSEMalformed),  # CWT tag is forbidden
    ],
)
def test_token_refusals(data: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        verify_token(data(), TRUST, now=NOW)


def test_oversized_token_refused_before_parsing() -> None:
    with pytest.raises(LimitExceeded):
        verify_token(b"\x00" * 5_000_000, TRUST, now=NOW)


# ------------------------------------------------------------------ the gate's checker


def checker(**freshness: Any) -> StatusListChecker:
    c = StatusListChecker(TRUST, freshness=Freshness(**freshness))
    c.load(_token(), now=NOW)
    return c


def test_checker_reads_each_value() -> None:
    c = checker()
    assert [c.check(StatusReference(i, URI), NOW, issuer="KR-MOIS", signer=SIGNER).value for i in range(8)] == [
        0,
        1,
        2,
        3,
        0,
        1,
        2,
        3,
    ]
    assert c.check(StatusReference(1, URI), NOW, issuer="KR-MOIS", signer=SIGNER).list_issued_at == NOW - 100


@pytest.mark.parametrize(
    ("reference", "now", "freshness"),
    [
        (StatusReference(16, URI), NOW, {}),  # index out of range
        (StatusReference(0, "https://id.mois.go.kr/sl/8"), NOW, {}),  # sub != uri: no list for it
        (StatusReference(0, URI), NOW - 100 + 3 * 86400, {}),  # stale past max_age (3 days)
        (StatusReference(0, URI), NOW + 7 * 86400 + 60, {"max_age": None}),  # past exp (+ leeway)
        (StatusReference(0, URI), NOW - 100 + 3600 + 1, {"honour_ttl": True}),  # past ttl
        (StatusReference(0, URI), NOW - 1000, {}),  # list from the future (clock skew)
    ],
)
def test_checker_unknown(reference: StatusReference, now: int, freshness: dict[str, Any]) -> None:
    with pytest.raises(StatusUnknown):
        checker(**freshness).check(reference, now, issuer="KR-MOIS", signer=SIGNER)


def test_checker_ttl_grace_and_boundaries() -> None:
    c = checker(honour_ttl=True, ttl_grace=600)
    assert c.check(StatusReference(0, URI), NOW - 100 + 3600 + 599, issuer="KR-MOIS", signer=SIGNER).value == 0
    with pytest.raises(StatusUnknown):
        c.check(StatusReference(0, URI), NOW - 100 + 3600 + 600, issuer="KR-MOIS", signer=SIGNER)
    assert (
        checker().check(StatusReference(0, URI), NOW - 100 + 3 * 86400 - 1, issuer="KR-MOIS", signer=SIGNER).value == 0
    )


def test_checker_never_rolls_back() -> None:
    c = checker()
    with pytest.raises(UsageError):
        c.load(_token(issued_at=NOW - 200), now=NOW)
    newer = sign_token(pack([1] * 16, 2), URI, KEY, issued_at=NOW - 50)
    c.load(newer, now=NOW)
    assert c.check(StatusReference(0, URI), NOW, issuer="KR-MOIS", signer=SIGNER).value == 1
    assert len(c.tokens()) == 1


def test_failed_load_keeps_the_list_held() -> None:
    c = checker()
    with pytest.raises(SignatureInvalid):
        c.load(_token()[:-1] + b"\x00", now=NOW)
    assert c.check(StatusReference(1, URI), NOW, issuer="KR-MOIS", signer=SIGNER).value == 1


def test_verifier_with_the_checker_end_to_end() -> None:
    c = checker()
    verifier = Verifier([KEY.public_key], clock=fixed_clock(NOW), status=c)
    expected = {0: Code.VALID, 1: Code.STATUS_REVOKED, 2: Code.STATUS_SUSPENDED, 3: Code.STATUS_NEEDS_RENEWAL}
    for idx, code in expected.items():
        text = forge.text(forge.claims(status={"status_list": {"idx": idx, "uri": URI}}))
        assert verifier.check(text).code == code
    text = forge.text(forge.claims(status={"status_list": {"idx": 99, "uri": URI}}))
    assert verifier.check(text).code == Code.STATUS_UNKNOWN
    valid = verifier.verify(forge.text(forge.claims(status={"status_list": {"idx": 4, "uri": URI}})))
    assert valid.status_list_age == 100


def test_status_list_round_trip_through_cbor_of_a_real_token() -> None:
    token = verify_token(_token(), TRUST, now=NOW)
    assert isinstance(token.status_list, StatusList)
    assert token.status_list.counts() == {1: 4, 2: 4, 3: 4}


# ------------------------------------------------------------------ the one authentication step


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (TrustedKey(KEY.public_key, not_after=NOW - 1000), PublicKeyExpired),  # key ended before the token's iat
        (TrustedKey(KEY.public_key, not_before=NOW), PublicKeyNotYetValid),  # key starts after the token's iat
        (TrustedKey(KEY.public_key, state=KeyState.COMPROMISED), PublicKeyCompromised),
    ],
)
def test_token_key_window_and_compromise_refused(entry: TrustedKey, error: type[Exception]) -> None:
    """verify_token goes through the shared authentication step: key windows at the token's
    iat and compromise apply (a token signed 30 days after its key's not_after is refused)."""
    with pytest.raises(error):
        verify_token(_token(), TrustStore([entry]), now=NOW)
    c = StatusListChecker(TrustStore([entry]))
    with pytest.raises(error):
        c.load(_token(), now=NOW)
    assert c.tokens() == []


def test_token_from_a_key_compromised_in_one_source_is_refused_even_if_another_lists_it_active() -> None:
    trust = TrustStore([TrustedKey(KEY.public_key, state=KeyState.COMPROMISED), KEY.public_key])
    with pytest.raises(PublicKeyCompromised):
        verify_token(_token(), trust, now=NOW)


def test_token_with_an_algorithm_other_than_its_keys_is_refused() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        verify_token(_resigned(_claims(), {1: -7, 4: KEY.kid, 16: TYP}), TRUST, now=NOW)
    with pytest.raises(UnsupportedAlgorithm):
        verify_token(_resigned(_claims(), {4: KEY.kid, 16: TYP}), TRUST, now=NOW)  # no alg at all
