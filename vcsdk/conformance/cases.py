"""The suites' cases: each function reads one family's published files under a vectors folder
(RFC 9285, RFC 8032, COSE WG and CWT, the IETF status list, Wycheproof) and yields its checks."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import cbor2

from ..codec import base45, cbor, cose
from ..errors import SignatureInvalid, VCError
from ..keys import (
    ALG_EDDSA,
    ECPublicKey,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    PublicKey,
    RSAPSSPublicKey,
    b64url_decode,
)
from ..limits import DEFAULT_LIMITS
from .results import Cases, _expect, _load_json, _Mismatch, _Skip

# ------------------------------------------------------------------------------ RFC 9285


def _base45_cases(root: Path) -> Cases:
    data = _load_json(root / "rfc-vectors" / "rfc9285_base45.json")
    for number, vector in enumerate(data["encode"], 1):

        def encode(vector: Mapping[str, Any] = vector) -> None:
            raw = bytes.fromhex(vector["input_hex"])
            _expect(base45.b45encode(raw) == vector["output"], f"encode gives {base45.b45encode(raw)!r}")
            _expect(base45.b45decode(vector["output"]) == raw, "decode of the encoding differs")

        yield f"encode-{number}", encode
    for number, vector in enumerate(data["decode"], 1):

        def decode(vector: Mapping[str, Any] = vector) -> None:
            _expect(base45.b45decode(vector["input"]) == bytes.fromhex(vector["output_hex"]), "decoded bytes differ")

        yield f"decode-{number}", decode
    rejects = [("must-fail", c) for c in data["decode_must_fail"]]
    rejects += [("derived-reject", c) for c in data["decode_must_fail_derived"]]
    for number, (kind, vector) in enumerate(rejects, 1):

        def reject(vector: Mapping[str, Any] = vector) -> None:
            try:
                base45.b45decode(vector["input"])
            except VCError as exc:
                _expect(exc.code == "BASE45_DECODING_FAILED", f"refused with {exc.code}")
                return
            raise _Mismatch(f"{vector['input']!r} was accepted")

        yield f"{kind}-{number}", reject


# ------------------------------------------------------------------------------ RFC 8032


def _rfc8032_cases(root: Path) -> Cases:
    data = _load_json(root / "rfc-vectors" / "rfc8032_ed25519.json")
    for vector in data["vectors"]:

        def check(vector: Mapping[str, Any] = vector) -> None:
            key = Ed25519PrivateKey(bytes.fromhex(vector["secret_key"]))
            message = bytes.fromhex(vector["message"])
            _expect(key.public_key.raw.hex() == vector["public_key"], "public key differs")
            _expect(key.sign(message).hex() == vector["signature"], "signature differs (not byte-exact)")
            key.public_key.verify(message, bytes.fromhex(vector["signature"]))

        yield vector["name"], check


# ------------------------------------------------------------------------------ COSE WG


_ALG_IDS = {"EdDSA": -8, "ES256": -7, "ES384": -35, "ES512": -36}


def _example_key(jwk: Mapping[str, Any], alg: str | None = None) -> PublicKey:
    """The public key of a COSE WG example key (hex or base64url coordinates)."""
    if jwk["kty"] == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise _Skip(f"curve {jwk.get('crv')} is not implemented (Ed25519 only)")
        return Ed25519PublicKey(bytes.fromhex(jwk["x_hex"]) if "x_hex" in jwk else b64url_decode(jwk["x"], "x"))
    alg_id = _ALG_IDS.get(alg) if alg else None
    if "x_hex" in jwk:
        x, y = bytes.fromhex(jwk["x_hex"]), bytes.fromhex(jwk["y_hex"])
    else:
        x, y = b64url_decode(jwk["x"], "x"), b64url_decode(jwk["y"], "y")
    return ECPublicKey(jwk["crv"], x, y, algorithm=alg_id)


def verify_generic(data: bytes, key: PublicKey, external_aad: bytes = b"") -> None:
    """What a generic COSE_Sign1 verifier does: decode (tag optional), bind alg, check signature.

    Unlike the official-ID profile it accepts an untagged message and ``alg`` from the
    unprotected bucket, as the COSE WG suite expects of a general implementation.
    """
    message = cose.decode_sign1(data, DEFAULT_LIMITS, require_tag=False)
    alg = message.protected.get(cose.HEADER_ALG, message.unprotected.get(cose.HEADER_ALG))
    if alg != key.alg:
        raise SignatureInvalid(f"alg {alg!r} is not the key's")
    key.verify(message.to_be_signed(external_aad), message.signature)


def _cose_sign1_cases(root: Path) -> Cases:
    for path in sorted((root / "cose-wg" / "sign1-tests").glob("*.json")):

        def check(path: Path = path) -> None:
            case = _load_json(path)
            sign0 = case["input"]["sign0"]
            data = bytes.fromhex(case["output"]["cbor"])
            external = bytes.fromhex(sign0.get("external", ""))
            expected = "fail" if case.get("fail") else "pass"
            try:
                verify_generic(data, _example_key(sign0["key"]), external)
                verdict = "pass"
            except VCError:
                verdict = "fail"
            _expect(verdict == expected, f"{case['title']}: SDK says {verdict}, suite says {expected}")

        yield path.stem, check


def _cose_eddsa_cases(root: Path) -> Cases:
    folder = root / "cose-wg" / "eddsa-examples"
    for path in sorted(folder.glob("*.json")):

        def check(path: Path = path) -> None:
            example = _load_json(path)
            if "sign0" not in example["input"]:
                raise _Skip("COSE_Sign (multi-signer) is not implemented; COSE_Sign1 only")
            sign0 = example["input"]["sign0"]
            public = _example_key(sign0["key"])  # skips Ed448
            data = bytes.fromhex(example["output"]["cbor"])
            payload = example["input"]["plaintext"].encode()
            verify_generic(data, public)
            _expect(cose.decode_sign1(data, DEFAULT_LIMITS).payload == payload, "payload differs")
            if "d_hex" in sign0["key"]:  # Ed25519 is deterministic: reproduce the bytes exactly
                key = Ed25519PrivateKey(bytes.fromhex(sign0["key"]["d_hex"]))
                protected: dict[int, Any] = {cose.HEADER_ALG: ALG_EDDSA}
                if "ctyp" in sign0.get("protected", {}):
                    protected[cose.HEADER_CONTENT_TYPE] = sign0["protected"]["ctyp"]
                unprotected = {cose.HEADER_KID: sign0["unprotected"]["kid"].encode()}
                tbs = cose.sig_structure(cose.encode_protected(protected), payload)
                _expect(tbs.hex().upper() == example["intermediates"]["ToBeSign_hex"], "Sig_structure differs")
                ours = cose.sign1(payload, protected, key.sign, unprotected=unprotected)
                _expect(ours.hex().upper() == example["output"]["cbor"], "signed message not byte-exact")

        yield path.stem, check


def _cose_ecdsa_cases(root: Path) -> Cases:
    for path in sorted((root / "cose-wg" / "ecdsa-examples").glob("*.json")):

        def check(path: Path = path) -> None:
            example = _load_json(path)
            if "sign0" not in example["input"]:
                raise _Skip("COSE_Sign (multi-signer) is not implemented; COSE_Sign1 only")
            sign0 = example["input"]["sign0"]
            verify_generic(bytes.fromhex(example["output"]["cbor"]), _example_key(sign0["key"], sign0["alg"]))

        yield path.stem, check


def _cwt_cases(root: Path) -> Cases:
    data = _load_json(root / "rfc-vectors" / "rfc8392_cwt.json")

    def appendix_a3() -> None:
        key = ECPublicKey.from_cose_key(cbor2.loads(bytes.fromhex(data["A.2.3_cose_key_hex"])))
        message = cose.decode_sign1(bytes.fromhex(data["A.3_signed_cwt_hex"]), DEFAULT_LIMITS)
        _expect(message.payload.hex() == data["A.1_claims_set_hex"], "claims set differs")
        _expect(message.alg == -7 and message.kid == b"AsymmetricECDSA256", "alg or kid differs")
        key.verify(message.to_be_signed(), message.signature)
        claims = cbor.loads_strict(message.payload, DEFAULT_LIMITS)
        _expect(claims.get(1) == "coap://as.example.com" and claims.get(4) == 1444064944, "claims differ")
        try:
            key.verify(message.to_be_signed(b"aad"), message.signature)
        except SignatureInvalid:
            return
        raise _Mismatch("verifies with external AAD it was not signed with")

    yield "A.3-signed-cwt", appendix_a3
    for path in sorted((root / "cose-wg" / "CWT").glob("*.json")):

        def check(path: Path = path) -> None:
            example = _load_json(path)
            if "sign0" not in example["input"]:
                raise _Skip("COSE_Mac0 / COSE_Encrypt0 CWTs are not implemented (signed CWTs only)")
            sign0 = example["input"]["sign0"]
            data_ = bytes.fromhex(example["output"]["cbor"])
            verify_generic(data_, _example_key(sign0["key"], sign0["alg"]))
            payload = cose.decode_sign1(data_, DEFAULT_LIMITS).payload
            _expect(payload.hex() == example["input"]["plaintext_hex"], "claims set differs")

        yield f"cose-wg-{path.stem}", check


# ------------------------------------------------------------------------------ status list


def _status_list_cases(root: Path) -> Cases:
    from ..revocation import StatusList, StatusListBuilder, StatusListChecker, pack, verify_token
    from ..revocation.checker import Freshness
    from ..trust.store import TrustStore

    data = _load_json(root / "ietf-status-list" / "vectors.json")
    for vector in data["small"]:
        name = vector["name"] if "name" in vector else f"bits{vector['bits']}"

        def small(vector: Mapping[str, Any] = vector) -> None:
            bits, statuses = vector["bits"], vector["statuses"]
            forms = {
                "compressed": StatusList.from_compressed(bits, bytes.fromhex(vector["compressed_hex"])),
                "cbor": StatusList.from_cbor(cbor2.loads(bytes.fromhex(vector["cbor_hex"]))),
                "json": StatusList.from_json({"bits": bits, "lst": vector["json_lst"]}),
            }
            for form, status_list in forms.items():
                _expect(status_list.data.hex() == vector["uncompressed_hex"], f"{form}: decoded bytes differ")
                got = [status_list.get(i) for i in range(vector["num_entries"])]
                _expect(got == statuses, f"{form}: statuses differ")
            ours = pack(statuses, bits)
            _expect(ours.data.hex() == vector["uncompressed_hex"], "our packing differs")
            _expect(zlib.decompress(ours.compressed()).hex() == vector["uncompressed_hex"], "our lst differs")

        yield f"small-{name}", small
    for vector in data["long"]:

        def long(vector: Mapping[str, Any] = vector) -> None:
            listed = {int(k): v for k, v in vector["listed"].items()}
            forms = {
                "cbor": StatusList.from_cbor(cbor2.loads(bytes.fromhex(vector["cbor_hex"]))),
                "json": StatusList.from_json({"bits": vector["bits"], "lst": vector["json_lst"]}),
            }
            for form, status_list in forms.items():
                _expect(status_list.size == vector["num_entries"], f"{form}: size {status_list.size}")
                wrong = [i for i, v in listed.items() if status_list.get(i) != v]
                _expect(not wrong, f"{form}: indices {wrong[:5]} differ")
                expected_counts: dict[int, int] = {}
                for value in listed.values():
                    if value != vector["unlisted_value"]:
                        expected_counts[value] = expected_counts.get(value, 0) + 1
                _expect(status_list.counts() == expected_counts, f"{form}: an unlisted index is not unlisted_value")
            builder = StatusListBuilder(vector["num_entries"], vector["bits"])
            builder.update(listed.items())
            _expect(builder.freeze().data == forms["cbor"].data, "our builder differs")

        yield f"long-{vector['name']}", long
    tokens = data["tokens"]
    example_key = ECPublicKey.from_jwk(tokens["example_key"])
    trust = TrustStore([example_key])
    draft_iat = 1686920170

    def example_token() -> None:
        token = verify_token(bytes.fromhex(tokens["status_list_cwt_hex"]), trust, now=draft_iat + 10)
        _expect(token.uri == "https://example.com/statuslists/1", f"sub {token.uri!r}")
        _expect((token.issued_at, token.ttl, token.kid) == (draft_iat, 43200, b"12"), "iat, ttl or kid differ")
        expected = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
        _expect([token.status_list.get(i) for i in range(16)] == expected, "statuses differ")

    def referenced_token() -> None:
        from ..codec.cwt import STATUS, StatusReference

        referenced = cose.decode_sign1(bytes.fromhex(tokens["referenced_token_cwt_hex"]), DEFAULT_LIMITS)
        example_key.verify(referenced.to_be_signed(), referenced.signature)
        reference = StatusReference.from_cbor(cbor.loads_strict(referenced.payload, DEFAULT_LIMITS)[STATUS])
        _expect(reference == StatusReference(0, "https://example.com/statuslists/1"), f"reference {reference}")
        checker = StatusListChecker(trust, freshness=Freshness(max_age=None))
        checker.load(bytes.fromhex(tokens["status_list_cwt_hex"]), now=draft_iat + 10)
        (signer,) = trust.candidates(b"12")
        value = checker.check(reference, draft_iat + 10, issuer="https://example.com", signer=signer).value
        _expect(value == 1, "index 0 is not INVALID (1)")

    def jwt_token() -> None:
        raise _Skip("the JWT form (application/statuslist+jwt) is not implemented; the CWT form is")

    yield "token-cwt-example", example_token
    yield "referenced-token-cwt", referenced_token
    yield "token-jwt-example", jwt_token


# ------------------------------------------------------------------------------ Wycheproof


def _wycheproof(path: Path, key_of: Callable[[Mapping[str, Any]], PublicKey], *, acceptable_ok: bool) -> Cases:
    data = _load_json(path)
    seen = 0
    for group in data["testGroups"]:
        try:
            key: PublicKey | None = key_of(group)
            key_error = ""
        except VCError as exc:
            key, key_error = None, f"{exc.code}: {exc.message}"
        for case in group["tests"]:
            seen += 1

            def check(case: Mapping[str, Any] = case, key: PublicKey | None = key, key_error: str = key_error) -> None:
                expected = case["result"]
                if key is None:
                    _expect(expected == "invalid" or (acceptable_ok and expected == "acceptable"),
                            f"key refused ({key_error}) but the case is {expected}")  # fmt: skip
                    return
                try:
                    key.verify(bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"]))
                    verdict = "valid"
                except SignatureInvalid:
                    verdict = "invalid"
                if expected == "acceptable" and acceptable_ok:
                    return
                _expect(verdict == expected, f"{case['comment']} {case['flags']}: SDK says {verdict}")

            yield f"{path.stem}#{case['tcId']}", check

    if seen != data["numberOfTests"]:  # a truncated file must not pass as a smaller suite

        def count() -> None:
            raise _Mismatch(f"{seen} cases read, the file says {data['numberOfTests']}")

        yield f"{path.stem}#count", count


def _wycheproof_ed25519(root: Path) -> Cases:
    def key_of(group: Mapping[str, Any]) -> PublicKey:
        return Ed25519PublicKey(bytes.fromhex(group["publicKey"]["pk"]))

    yield from _wycheproof(root / "wycheproof" / "ed25519_test.json", key_of, acceptable_ok=False)


def _wycheproof_ecdsa(root: Path) -> Cases:
    def key_of(group: Mapping[str, Any]) -> PublicKey:
        wx, wy = (int(group["publicKey"][k], 16).to_bytes(32, "big") for k in ("wx", "wy"))
        return ECPublicKey("P-256", wx, wy)

    yield from _wycheproof(root / "wycheproof" / "ecdsa_secp256r1_sha256_p1363_test.json", key_of, acceptable_ok=True)


def _wycheproof_rsa_pss(root: Path) -> Cases:
    def key_of(group: Mapping[str, Any]) -> PublicKey:
        return RSAPSSPublicKey(int(group["publicKey"]["modulus"], 16), int(group["publicKey"]["publicExponent"], 16))

    for bits in (2048, 3072):
        yield from _wycheproof(
            root / "wycheproof" / f"rsa_pss_{bits}_sha256_mgf1_32_test.json", key_of, acceptable_ok=True
        )
