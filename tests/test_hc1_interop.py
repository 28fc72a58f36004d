"""HC1 as the EU's own verifiers accept it, and the DCC test data's negative cases still refused.

Each leniency is what hcert-kotlin / ValidationCore accept in certificates seen in the wild; the
official-ID profile refuses every one of them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.conftest import NOW
from tests.hc1_forge import certificate as _certificate
from vcsdk import Code, Verifier, fixed_clock
from vcsdk.codec import base45, cose, qrtext
from vcsdk.profiles.hc1 import HC1Verifier, certificate_kid, signer_certificates

DAY = 86400
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())


CERT = _certificate(KEY)
KID = certificate_kid(CERT.public_bytes(serialization.Encoding.DER))


def _sign(key: Any) -> Callable[[bytes], bytes]:
    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign


def _dcc(**changes: Any) -> dict[str, Any]:
    dcc: dict[str, Any] = {
        "ver": "1.3.0",
        "nam": {"fn": "Musterfrau", "gn": "Gabriele", "fnt": "MUSTERFRAU", "gnt": "GABRIELE"},
        "dob": "1998-02-26",
        "v": [{"tg": "840539006", "dn": 2, "sd": 2, "dt": "2021-02-18", "co": "AT", "ci": "URN:UVCI:01:AT:X"}],
    }
    dcc.update(changes)
    return dcc


def _message(
    *,
    payload: dict[Any, Any] | None = None,
    protected: dict[int, Any] | None = None,
    unprotected: dict[int, Any] | None = None,
    key: Any = KEY,
    tagged: bool = True,
) -> bytes:
    claims = payload if payload is not None else {1: "AT", 6: NOW - 100, 4: NOW + 365 * DAY, -260: {1: _dcc()}}
    return cose.sign1(
        cbor2.dumps(claims),
        {1: -7, 4: KID} if protected is None else protected,
        _sign(key),
        unprotected=unprotected,
        tagged=tagged,
    )


def _text(data: bytes) -> str:
    return "HC1:" + base45.b45encode(zlib.compress(data, 9))


@pytest.fixture(scope="module")
def verifier() -> HC1Verifier:
    return HC1Verifier(signer_certificates(CERT.public_bytes(serialization.Encoding.PEM)), clock=fixed_clock(NOW))


LENIENT: dict[str, Callable[[], bytes]] = {
    "untagged COSE_Sign1": lambda: _message(tagged=False),
    "CWT tag 61 around COSE tag 18": lambda: b"\xd8\x3d" + _message(),
    "iat and exp as floats": lambda: _message(
        payload={1: "AT", 6: float(NOW - 100), 4: float(NOW + 365 * DAY) + 0.5, -260: {1: _dcc()}}
    ),
    "half-precision-free float64 iat only": lambda: _message(
        payload={1: "AT", 6: NOW - 100.75, 4: NOW + DAY, -260: {1: _dcc()}}
    ),
    "date-time tags inside hcert": lambda: _message(
        payload={
            1: "AT",
            6: NOW - 100,
            4: NOW + DAY,
            -260: {
                1: _dcc(
                    dob=cbor2.CBORTag(1004, "1998-02-26"),
                    v=[{"tg": "840539006", "dt": cbor2.CBORTag(0, "2021-02-18T10:00:00Z"), "dn": 2, "sd": 2}],
                )
            },
        }
    ),
    "epoch tag 1 inside hcert": lambda: _message(
        payload={
            1: "AT",
            6: NOW - 100,
            4: NOW + DAY,
            -260: {1: _dcc(v=[{"dn": 2, "dt": cbor2.CBORTag(1, NOW - 7200)}])},
        }
    ),
    "alg only in the unprotected bucket": lambda: _message(protected={4: KID}, unprotected={1: -7}),
    "alg unprotected, kid unprotected, protected empty": lambda: _message(protected={}, unprotected={1: -7, 4: KID}),
}


@pytest.mark.parametrize("case", sorted(LENIENT))
def test_what_the_eu_verifiers_accept_is_valid(case: str, verifier: HC1Verifier) -> None:
    result = verifier.check(_text(LENIENT[case]()))
    assert (result.valid, result.code) == (True, Code.VALID), result.message
    assert result.credential is not None
    assert result.credential.dcc["nam"]["fn"] == "Musterfrau"


def test_float_dates_are_rounded_down_and_bound_by_the_certificate(verifier: HC1Verifier) -> None:
    credential = verifier.verify(_text(LENIENT["iat and exp as floats"]()))
    assert credential.issued_at == NOW - 100 and credential.expires_at == NOW + 365 * DAY
    young = _certificate(KEY, days=(-1, 30))
    strict = HC1Verifier(signer_certificates(young.public_bytes(serialization.Encoding.PEM)), clock=fixed_clock(NOW))
    young_kid = certificate_kid(young.public_bytes(serialization.Encoding.DER))
    old_float = _message(payload={1: "AT", 6: float(NOW - 5 * DAY), 4: NOW + DAY, -260: {1: _dcc()}},
                         protected={1: -7, 4: young_kid})  # fmt: skip
    assert strict.check(_text(old_float)).code == Code.PUBLIC_KEY_NOT_YET_VALID


REFUSED: dict[str, tuple[Callable[[], str], Code]] = {
    # the DCC test data's negative cases
    "CO5 signature invalid": (lambda: _text(_message(key=OTHER)), Code.SIGNATURE_INVALID),
    "CO16 clock before iat": (
        lambda: _text(_message(payload={1: "AT", 6: NOW + DAY, 4: NOW + 2 * DAY, -260: {1: _dcc()}})),
        Code.CWT_NOT_YET_VALID,
    ),
    "CO17 clock after exp": (
        lambda: _text(_message(payload={1: "AT", 6: NOW - 2 * DAY, 4: NOW - DAY, -260: {1: _dcc()}})),
        Code.CWT_EXPIRED,
    ),
    "CO22 protected kid wrong, unprotected right": (
        lambda: _text(_message(protected={1: -7, 4: b"wrongkid"}, unprotected={4: KID})),
        Code.KEY_NOT_IN_TRUST_LIST,
    ),
    "CO23 no protected kid, unprotected wrong": (
        lambda: _text(_message(protected={1: -7}, unprotected={4: b"wrongkid"})),
        Code.KEY_NOT_IN_TRUST_LIST,
    ),
    "CBO1 wrong CBOR structure": (lambda: _text(b"\xa1\x01"), Code.CBOR_MALFORMED),
    "CBO2 wrong CWT structure": (
        lambda: _text(cose.sign1(cbor2.dumps([1, 2, 3]), {1: -7, 4: KID}, _sign(KEY))),
        Code.CLAIMS_INVALID,
    ),
    "DGC2 two certificates": (
        lambda: _text(_message(payload={1: "AT", 6: NOW - 1, 4: NOW + DAY, -260: {1: _dcc(r=[{"fr": "x"}])}})),
        Code.CLAIMS_INVALID,
    ),
    "DGC2 two vaccinations": (
        lambda: _text(_message(payload={1: "AT", 6: NOW - 1, 4: NOW + DAY, -260: {1: _dcc(v=[{"dn": 1}, {"dn": 2}])}})),
        Code.CLAIMS_INVALID,
    ),
    "H1 other context": (lambda: "HL0:" + _text(_message())[4:], Code.INVALID_SCHEME_PREFIX),
    "H3 no context": (lambda: _text(_message())[4:], Code.INVALID_SCHEME_PREFIX),
    "B1 Base45 broken": (lambda: _text(_message())[:-1] + "a", Code.BASE45_DECODING_FAILED),
    "Z2 not compressed": (lambda: "HC1:" + base45.b45encode(_message()), Code.DECOMPRESSION_FAILED),
    # beyond the leniencies: still refused
    "tag 61 around an untagged message": (lambda: _text(b"\xd8\x3d" + _message(tagged=False)), Code.COSE_MALFORMED),
    "tag 61 twice": (lambda: _text(b"\xd8\x3d\xd8\x3d" + _message()), Code.COSE_MALFORMED),
    "another outer tag": (lambda: _text(b"\xd1" + _message(tagged=False)), Code.COSE_MALFORMED),
    "NaN exp": (
        lambda: _text(_message(payload={1: "AT", 6: NOW - 1, 4: float("nan"), -260: {1: _dcc()}})),
        Code.CLAIMS_INVALID,
    ),
    "infinite exp": (
        lambda: _text(_message(payload={1: "AT", 6: NOW - 1, 4: float("inf"), -260: {1: _dcc()}})),
        Code.CLAIMS_INVALID,
    ),
    "tagged iat outside hcert": (
        lambda: _text(_message(payload={1: "AT", 6: cbor2.CBORTag(1, NOW - 1), 4: NOW + DAY, -260: {1: _dcc()}})),
        Code.CLAIMS_INVALID,
    ),
    "foreign tag inside hcert": (
        lambda: _text(_message(payload={1: "AT", 6: NOW - 1, 4: NOW + DAY, -260: {1: _dcc(x=cbor2.CBORTag(32, "u"))}})),
        Code.CBOR_MALFORMED,
    ),
    "alg in both buckets": (lambda: _text(_message(unprotected={1: -7})), Code.COSE_MALFORMED),
    "unprotected alg not the key's": (
        lambda: _text(_message(protected={4: KID}, unprotected={1: -37})),
        Code.UNSUPPORTED_ALGORITHM,
    ),
    "unprotected alg EdDSA": (
        lambda: _text(_message(protected={4: KID}, unprotected={1: -8})),
        Code.UNSUPPORTED_ALGORITHM,
    ),
    "no alg anywhere": (lambda: _text(_message(protected={4: KID})), Code.UNSUPPORTED_ALGORITHM),
    "unprotected alg, signature by another key": (
        lambda: _text(_message(protected={4: KID}, unprotected={1: -7}, key=OTHER)),
        Code.SIGNATURE_INVALID,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_negative_cases_stay_refused(case: str, verifier: HC1Verifier) -> None:
    make, code = REFUSED[case]
    result = verifier.check(make())
    assert (result.valid, result.code) == (False, code), result.message


@pytest.mark.parametrize(
    "case", ["untagged COSE_Sign1", "CWT tag 61 around COSE tag 18", "alg only in the unprotected bucket"]
)
def test_the_official_id_profile_stays_strict(case: str) -> None:
    from vcsdk import Ed25519PrivateKey

    key = Ed25519PrivateKey(bytes(range(32)))
    claims = cbor2.dumps({1: "KR-MOIS", 6: NOW - 100, 4: NOW + DAY, 7: bytes(16), -65537: {}})
    shapes = {
        "untagged COSE_Sign1": cose.sign1(claims, {1: -8, 4: key.kid}, key.sign, tagged=False),
        "CWT tag 61 around COSE tag 18": b"\xd8\x3d" + cose.sign1(claims, {1: -8, 4: key.kid}, key.sign),
        "alg only in the unprotected bucket": cose.sign1(claims, {4: key.kid}, key.sign, unprotected={1: -8}),
    }
    result = Verifier([key.public_key], clock=fixed_clock(NOW)).check(qrtext.pack(shapes[case], "GID1:"))
    assert result.code in (Code.COSE_MALFORMED, Code.UNSUPPORTED_ALGORITHM), result
