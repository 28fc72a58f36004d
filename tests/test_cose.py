"""COSE_Sign1: the COSE WG examples and sign1 pass/fail suite, RFC 8392's signed CWT,
and the header rules of RFC 9052."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cbor2
import pytest

from tests.conftest import conformance_file, load_conformance_json
from vcsdk import DEFAULT_LIMITS, Ed25519PrivateKey
from vcsdk.codec import cose
from vcsdk.errors import COSEMalformed, SignatureInvalid, VCError
from vcsdk.keys import ALG_EDDSA, ECPublicKey, Ed25519PublicKey, PublicKey, b64url_decode

ALG_IDS = {"EdDSA": -8, "ES256": -7, "ES384": -35, "ES512": -36}


def _key_from_example(jwk: dict[str, Any], alg: str | None = None) -> PublicKey:
    if jwk["kty"] == "OKP":
        return Ed25519PublicKey(bytes.fromhex(jwk["x_hex"]))
    alg_id = ALG_IDS[alg] if alg else None
    if "x_hex" in jwk:
        return ECPublicKey(jwk["crv"], bytes.fromhex(jwk["x_hex"]), bytes.fromhex(jwk["y_hex"]), algorithm=alg_id)
    return ECPublicKey(jwk["crv"], b64url_decode(jwk["x"], "x"), b64url_decode(jwk["y"], "y"), algorithm=alg_id)


def _verify_generic(data: bytes, key: PublicKey, external: bytes = b"") -> None:
    """What a generic COSE verifier does: decode (tag optional) and check alg and signature."""
    message = cose.decode_sign1(data, DEFAULT_LIMITS, require_tag=False)
    alg = message.protected.get(cose.HEADER_ALG, message.unprotected.get(cose.HEADER_ALG))
    if alg != key.alg:
        raise SignatureInvalid(f"alg {alg!r} is not the key's")
    key.verify(message.to_be_signed(external), message.signature)


def test_eddsa_sig_01_reproduced_byte_for_byte() -> None:
    example = load_conformance_json("cose-wg", "eddsa-examples", "eddsa-sig-01.json")
    sign0 = example["input"]["sign0"]
    key = Ed25519PrivateKey(bytes.fromhex(sign0["key"]["d_hex"]))
    assert key.public_key.raw.hex() == sign0["key"]["x_hex"]
    payload = example["input"]["plaintext"].encode()
    protected = {cose.HEADER_ALG: ALG_EDDSA, cose.HEADER_CONTENT_TYPE: sign0["protected"]["ctyp"]}
    unprotected = {cose.HEADER_KID: sign0["unprotected"]["kid"].encode()}
    to_be_signed = cose.sig_structure(cose.encode_protected(protected), payload)
    assert to_be_signed.hex().upper() == example["intermediates"]["ToBeSign_hex"]
    message = cose.sign1(payload, protected, key.sign, unprotected=unprotected)
    assert message.hex().upper() == example["output"]["cbor"]
    decoded = cose.decode_sign1(message, DEFAULT_LIMITS)
    key.public_key.verify(decoded.to_be_signed(), decoded.signature)
    assert decoded.kid == b"11"


def test_cose_wg_ed25519_sign1_example_verifies() -> None:
    """eddsa-sig-01 is the one Ed25519 COSE_Sign1 example (eddsa-01 is COSE_Sign, -02 Ed448)."""
    example = load_conformance_json("cose-wg", "eddsa-examples", "eddsa-sig-01.json")
    data = bytes.fromhex(example["output"]["cbor"])
    _verify_generic(data, _key_from_example(example["input"]["sign0"]["key"]))
    assert cose.decode_sign1(data, DEFAULT_LIMITS).payload == example["input"]["plaintext"].encode()


def sign1_cases() -> list[Path]:
    folder = conformance_file("cose-wg", "sign1-tests")
    return sorted(folder.glob("*.json"))


def test_cose_wg_sign1_suite_verdicts() -> None:
    """Every sign1-tests case: generic COSE verdicts (untagged and alg in unprotected allowed)."""
    verdicts = {}
    for path in sign1_cases():
        case = json.loads(path.read_text())
        sign0 = case["input"]["sign0"]
        data = bytes.fromhex(case["output"]["cbor"])
        external = bytes.fromhex(sign0.get("external", ""))
        try:
            _verify_generic(data, _key_from_example(sign0["key"]), external)
            verdict = "pass"
        except VCError:
            verdict = "fail"
        expected = "fail" if case.get("fail") else "pass"
        assert verdict == expected, f"{path.name}: {case['title']}"
        verdicts[path.name] = verdict
    assert len(verdicts) == 9
    print(verdicts)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sign-fail-01.json", "COSE_MALFORMED"),  # tag 998
        ("sign-fail-03.json", "UNSUPPORTED_ALGORITHM"),  # alg -999
        ("sign-fail-04.json", "UNSUPPORTED_ALGORITHM"),  # alg "unknown"
        ("sign-pass-01.json", "UNSUPPORTED_ALGORITHM"),  # alg only unprotected: profile refuses
        ("sign-pass-03.json", "COSE_MALFORMED"),  # untagged: profile refuses
        ("sign-fail-02.json", "UNSUPPORTED_ALGORITHM"),  # ES256 is not the profile's alg
        ("sign-fail-06.json", "UNSUPPORTED_ALGORITHM"),
        ("sign-fail-07.json", "UNSUPPORTED_ALGORITHM"),
        ("sign-pass-02.json", "UNSUPPORTED_ALGORITHM"),
    ],
)
def test_sign1_suite_through_the_official_profile(name: str, expected: str) -> None:
    """The official-ID verifier reaches these verdicts from structure and alg alone."""
    from tests.forge import text_from_cose
    from vcsdk import Verifier

    case = json.loads(conformance_file("cose-wg", "sign1-tests", name).read_text())
    result = Verifier([Ed25519PrivateKey.generate().public_key]).check(
        text_from_cose(bytes.fromhex(case["output"]["cbor"]))
    )
    assert not result.valid
    assert result.code == expected


def test_rfc8392_signed_cwt_verifies_with_es256() -> None:
    data = load_conformance_json("rfc-vectors", "rfc8392_cwt.json")
    key = ECPublicKey.from_cose_key(cbor2.loads(bytes.fromhex(data["A.2.3_cose_key_hex"])))
    message = cose.decode_sign1(bytes.fromhex(data["A.3_signed_cwt_hex"]), DEFAULT_LIMITS)
    assert message.payload.hex() == data["A.1_claims_set_hex"]
    assert message.alg == -7 and message.kid == b"AsymmetricECDSA256"
    key.verify(message.to_be_signed(), message.signature)
    with pytest.raises(SignatureInvalid):
        key.verify(message.to_be_signed(b"aad"), message.signature)


def test_ecdsa_examples_verify() -> None:
    folder = conformance_file("cose-wg", "ecdsa-examples")
    checked = 0
    for path in sorted(folder.glob("ecdsa-sig-*.json")):
        example = json.loads(path.read_text())
        sign0 = example["input"]["sign0"]
        if sign0["key"]["crv"] not in ("P-256", "P-384", "P-521"):
            continue
        key = _key_from_example(sign0["key"], sign0["alg"])
        _verify_generic(bytes.fromhex(example["output"]["cbor"]), key)
        checked += 1
    assert checked == 4  # P-256, P-384, P-521, and P-256 with SHA-512 (ES512)


# ------------------------------------------------------------------------ header rules


def _msg(protected: bytes, unprotected: dict[Any, Any], payload: Any = b"p", sig: Any = b"s", tag: int = 18) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(tag, [protected, unprotected, payload, sig]))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (cbor2.dumps([b"", {}, b"", b""]), "untagged"),
        (cbor2.dumps(cbor2.CBORTag(998, [b"", {}, b"", b""])), "tag 998"),
        (cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", b""])), "COSE_Sign tag"),
        (cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""])), "COSE_Mac0 tag"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), "3 elements"),
        (cbor2.dumps(cbor2.CBORTag(18, {})), "not an array"),
        (_msg(b"", {}, payload=None), "detached payload"),
        (_msg(b"", {}, payload="text"), "payload not bstr"),
        (_msg(b"", {}, sig=None), "signature not bstr"),
        (_msg(cbor2.dumps([1]), {}), "protected not a map"),
        (_msg(cbor2.dumps({1: -8}), {1: -8}), "alg in both buckets"),
        (_msg(cbor2.dumps({4: b"a"}), {4: b"b"}), "kid in both buckets"),
        (_msg(cbor2.dumps({1: -8, 2: [99], 99: 1}), {}), "crit names an unknown label"),
        (_msg(cbor2.dumps({1: -8, 2: [4]}), {}), "crit names an absent label"),
        (_msg(cbor2.dumps({1: -8, 2: []}), {}), "empty crit"),
        (_msg(cbor2.dumps({1: -8}), {2: [1]}), "crit unprotected"),
        (_msg(cbor2.dumps({1: 1.5}), {}), "alg is a float"),
        (_msg(cbor2.dumps({4: "text"}), {}), "kid is text"),
        (_msg(cbor2.dumps({3: -1}), {}), "negative content type"),
        (_msg(cbor2.dumps({1.5: 1}), {}), "float label"),
    ],
)
def test_header_rules(data: bytes, why: str) -> None:
    with pytest.raises(COSEMalformed):
        cose.decode_sign1(data, DEFAULT_LIMITS)


def test_understood_crit_is_accepted_and_empty_protected_is_empty_bstr() -> None:
    message = cose.decode_sign1(_msg(cbor2.dumps({1: -8, 2: [1]}), {}), DEFAULT_LIMITS)
    assert message.alg == -8
    assert cose.encode_protected({}) == b""
    assert cose.decode_sign1(_msg(b"", {4: b"k"}), DEFAULT_LIMITS).kid == b"k"


def test_protected_bytes_kept_exactly_as_received() -> None:
    # {1: -8} encoded non-canonically (int in a 1-byte argument): must be signed as received.
    odd = bytes.fromhex("a10138" + "07")
    message = cose.decode_sign1(_msg(odd, {}), DEFAULT_LIMITS)
    assert message.protected_bytes == odd
    assert message.alg == -8
    assert odd in message.to_be_signed()
