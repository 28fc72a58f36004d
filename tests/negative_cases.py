"""The negative suite's case table: at least one case per DESIGN section 4 row, each with the
exact code it must produce, built by tests/forge.py so that it reaches exactly the step it
targets. Shared by tests/test_verify_negative.py and tests/test_fast_path.py (a helper module,
not a test module)."""

from __future__ import annotations

import gzip
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cbor2

from tests import forge
from tests.conftest import NOW, SEED
from vcsdk import (
    Code,
    Ed25519PrivateKey,
    StatusPolicy,
    TrustedKey,
    Verifier,
    fixed_clock,
)
from vcsdk.codec import cbor, cose
from vcsdk.keys import ECPublicKey
from vcsdk.trust.store import KeyState

KEY = Ed25519PrivateKey(SEED)
OTHER = Ed25519PrivateKey(bytes(range(1, 33)))


def verifier(*keys: Any, **kwargs: Any) -> Verifier:
    kwargs.setdefault("clock", fixed_clock(NOW))
    kwargs.setdefault("status_policy", StatusPolicy.ALLOW_UNKNOWN)
    return Verifier(keys or [KEY.public_key], **kwargs)


def code_of(text: str | bytes, v: Verifier | None = None) -> Code:
    result = (v or verifier()).check(text)
    assert result.credential is None or result.valid
    return result.code


def official(**changes: Any) -> dict[int, Any]:
    """The reference official-ID map with keys changed (None deletes)."""
    value = forge.official_map()
    for key, new in changes.items():
        number = int(key.lstrip("k"))
        if new is None:
            value.pop(number, None)
        else:
            value[number] = new
    return value


@dataclass(frozen=True)
class Case:
    name: str
    text: Callable[[], str]
    code: Code
    verifier: Callable[[], Verifier] = verifier


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _deep_cbor() -> bytes:
    return b"\x81" * 40 + b"\x00"


def _bomb() -> str:
    data = zlib.compress(b"\xa0" * 2_000_000, 9)
    assert len(data) < 2800  # fits a QR, inflates to 2 MB
    return forge.text_from_zlib(data)


CASES: list[Case] = [
    # -- input length
    Case("text longer than the largest QR", lambda: "GID1:" + "A" * 4292, Code.LIMIT_EXCEEDED),
    # -- prefix
    Case("prefix missing", lambda: forge.text()[5:], Code.INVALID_SCHEME_PREFIX),
    Case("HC1 prefix", lambda: "HC1:" + forge.text()[5:], Code.INVALID_SCHEME_PREFIX),
    Case("lowercase prefix", lambda: "gid1:" + forge.text()[5:], Code.INVALID_SCHEME_PREFIX),
    Case("next version prefix", lambda: "GID2:" + forge.text()[5:], Code.INVALID_SCHEME_PREFIX),
    Case("empty text", lambda: "", Code.INVALID_SCHEME_PREFIX),
    # -- Base45
    Case("lowercase Base45", lambda: forge.text().lower().replace("gid1:", "GID1:"), Code.BASE45_DECODING_FAILED),
    Case(
        "Base45 length 1 mod 3",
        lambda: forge.text() + "A" if len(forge.text()[5:]) % 3 == 0 else forge.text()[:-1],
        Code.BASE45_DECODING_FAILED,
    ),
    Case("Base45 triplet over 65535", lambda: "GID1:GGW", Code.BASE45_DECODING_FAILED),
    Case("trailing newline", lambda: forge.text() + "\n", Code.BASE45_DECODING_FAILED),
    Case("leading space", lambda: "GID1: " + forge.text()[5:], Code.BASE45_DECODING_FAILED),
    # -- zlib
    Case("not zlib", lambda: forge.text_from_zlib(forge.sign1_bytes()), Code.DECOMPRESSION_FAILED),
    Case(
        "zlib with trailing bytes",
        lambda: forge.text_from_zlib(zlib.compress(forge.sign1_bytes()) + b"\x00"),
        Code.DECOMPRESSION_FAILED,
    ),
    Case(
        "truncated zlib",
        lambda: forge.text_from_zlib(zlib.compress(forge.sign1_bytes())[:-3]),
        Code.DECOMPRESSION_FAILED,
    ),
    Case(
        "gzip instead of zlib",
        lambda: forge.text_from_zlib(gzip.compress(forge.sign1_bytes())),
        Code.DECOMPRESSION_FAILED,
    ),
    Case("empty payload after prefix", lambda: "GID1:", Code.DECOMPRESSION_FAILED),
    # -- limits
    Case("zlib bomb over the inflate cap", _bomb, Code.LIMIT_EXCEEDED),
    Case("CBOR nested deeper than the cap", lambda: forge.text_from_cose(_deep_cbor()), Code.LIMIT_EXCEEDED),
    Case(
        "payload nested deeper than the cap",
        lambda: forge.text(forge.claims(official={**official(), 11: _nested(20)})),
        Code.LIMIT_EXCEEDED,
    ),
    # -- strict CBOR
    Case("trailing bytes after COSE", lambda: forge.text_from_cose(forge.sign1_bytes() + b"\x00"), Code.CBOR_MALFORMED),
    Case(
        "indefinite-length COSE array",
        lambda: forge.text_from_cose(b"\xd2\x9f" + forge.sign1_bytes()[2:] + b"\xff"),
        Code.CBOR_MALFORMED,
    ),
    Case(
        "duplicate key in unprotected header",
        lambda: forge.text_from_cose(raw_sign1(b"\xa2\x05\x01\x05\x02")),
        Code.CBOR_MALFORMED,
    ),
    Case("duplicate key in signed payload", lambda: forge.text(_payload_with_duplicate_iss()), Code.CBOR_MALFORMED),
    Case(
        "payload with a disallowed tag",
        lambda: forge.text(forge.claims(iat=cbor2.CBORTag(1, NOW))),
        Code.CBOR_MALFORMED,
    ),
    Case("payload not CBOR", lambda: forge.text(b"This is the content."), Code.CBOR_MALFORMED),
    # -- COSE structure
    Case("untagged COSE_Sign1", lambda: forge.text(tag=None), Code.COSE_MALFORMED),
    Case("COSE_Sign tag 98", lambda: forge.text(tag=98), Code.COSE_MALFORMED),
    Case(
        "CWT tag 61 wrapping",
        lambda: forge.text_from_cose(cbor2.dumps(cbor2.CBORTag(61, cbor2.loads(forge.sign1_bytes())))),
        Code.COSE_MALFORMED,
    ),
    Case(
        "kid in both buckets, protected one wrong",
        lambda: forge.text(protected={1: -8, 4: b"wrongkid"}, unprotected={4: KEY.kid}),
        Code.COSE_MALFORMED,
    ),
    Case(
        "alg in both buckets",
        lambda: forge.text(protected={1: -8, 4: KEY.kid}, unprotected={1: -8}),
        Code.COSE_MALFORMED,
    ),
    Case("unknown crit label", lambda: forge.text(protected={1: -8, 4: KEY.kid, 2: [99], 99: 1}), Code.COSE_MALFORMED),
    Case("crit in unprotected", lambda: forge.text(unprotected={2: [1]}), Code.COSE_MALFORMED),
    Case(
        "protected header is not a map", lambda: forge.text(protected_bytes=cbor2.dumps([1, -8])), Code.COSE_MALFORMED
    ),
    Case(
        "detached payload",
        lambda: forge.text_from_cose(
            cbor2.dumps(cbor2.CBORTag(18, [cose.encode_protected({1: -8, 4: KEY.kid}), {}, None, bytes(64)]))
        ),
        Code.COSE_MALFORMED,
    ),
    # -- algorithm
    Case("alg missing", lambda: forge.text(protected={4: KEY.kid}), Code.UNSUPPORTED_ALGORITHM),
    Case(
        "alg only in the unprotected bucket",
        lambda: forge.text(protected={4: KEY.kid}, unprotected={1: -8}),
        Code.UNSUPPORTED_ALGORITHM,
    ),
    Case(
        "alg ES256 outside the profile", lambda: forge.text(protected={1: -7, 4: KEY.kid}), Code.UNSUPPORTED_ALGORITHM
    ),
    Case("alg as text", lambda: forge.text(protected={1: "EdDSA", 4: KEY.kid}), Code.UNSUPPORTED_ALGORITHM),
    Case(
        "alg is not the trusted key's alg",
        lambda: forge.text(),
        Code.UNSUPPORTED_ALGORITHM,
        lambda: verifier(ECPublicKey("P-256", *_p256_point(), kid=KEY.kid)),
    ),
    # -- kid
    Case("unknown kid", lambda: forge.text(key=OTHER), Code.KEY_NOT_IN_TRUST_LIST),
    Case("no kid at all", lambda: forge.text(protected={1: -8}), Code.KEY_NOT_IN_TRUST_LIST),
    # -- key validity at iat
    Case(
        "key retired before iat",
        lambda: forge.text(),
        Code.PUBLIC_KEY_EXPIRED,
        lambda: verifier(TrustedKey(KEY.public_key, not_after=NOW - 1000)),
    ),
    Case(
        "key not yet valid at iat",
        lambda: forge.text(),
        Code.PUBLIC_KEY_NOT_YET_VALID,
        lambda: verifier(TrustedKey(KEY.public_key, not_before=NOW)),
    ),
    Case(
        "key marked compromised",
        lambda: forge.text(),
        Code.PUBLIC_KEY_COMPROMISED,
        lambda: verifier(TrustedKey(KEY.public_key, state=KeyState.COMPROMISED)),
    ),
    # -- signature
    Case(
        "signature of another key, same kid",
        lambda: forge.text(key=OTHER, protected={1: -8, 4: KEY.kid}),
        Code.SIGNATURE_INVALID,
    ),
    Case("signature all zero", lambda: forge.text(signature=bytes(64)), Code.SIGNATURE_INVALID),
    Case("signature truncated", lambda: forge.text(signature=KEY.sign(b"x")[:63]), Code.SIGNATURE_INVALID),
    Case(
        "signature with garbage appended",
        lambda: forge.text(signature=reference_signature() + b"\x00"),
        Code.SIGNATURE_INVALID,
    ),
    Case("protected header re-encoded after signing", lambda: _reencoded_protected(), Code.SIGNATURE_INVALID),
    Case("empty external context signed with AAD", lambda: _signed_with_aad(), Code.SIGNATURE_INVALID),
    # -- claims
    Case("iss missing", lambda: forge.text(forge.claims(iss=None)), Code.CLAIMS_INVALID),
    Case("iss empty", lambda: forge.text(forge.claims(iss="")), Code.CLAIMS_INVALID),
    Case("iat missing", lambda: forge.text(forge.claims(iat=None)), Code.CLAIMS_INVALID),
    Case("iat as text", lambda: forge.text(forge.claims(iat=str(NOW))), Code.CLAIMS_INVALID),
    Case("iat as float", lambda: forge.text(forge.claims(iat=float(NOW))), Code.CLAIMS_INVALID),
    Case("exp missing", lambda: forge.text(forge.claims(exp=None)), Code.CLAIMS_INVALID),
    Case("exp before iat", lambda: forge.text(forge.claims(iat=NOW - 10, exp=NOW - 20)), Code.CLAIMS_INVALID),
    Case("cti missing", lambda: forge.text(forge.claims(cti=None)), Code.CLAIMS_INVALID),
    Case("cti of 8 bytes", lambda: forge.text(forge.claims(cti=bytes(8))), Code.CLAIMS_INVALID),
    Case("official-ID claims missing", lambda: forge.text(forge.claims(official=None)), Code.CLAIMS_INVALID),
    Case("official-ID claims not a map", lambda: forge.text(forge.claims(official=[1, 2])), Code.CLAIMS_INVALID),
    Case("unknown top-level claim", lambda: forge.text({**forge.claims(), 3: "aud"}), Code.CLAIMS_INVALID),
    Case("payload is an array", lambda: forge.text(cbor2.dumps([1, 2])), Code.CLAIMS_INVALID),
    Case("unknown official-ID key", lambda: forge.text(forge.claims(official=official(k11="x"))), Code.CLAIMS_INVALID),
    Case("name missing", lambda: forge.text(forge.claims(official=official(k1=None))), Code.CLAIMS_INVALID),
    Case("name empty", lambda: forge.text(forge.claims(official=official(k1=""))), Code.CLAIMS_INVALID),
    Case(
        "name not NFC",
        lambda: forge.text(forge.claims(official=official(k1=unicodedata.normalize("NFD", "김민준")))),
        Code.CLAIMS_INVALID,
    ),
    Case(
        "name with a control character",
        lambda: forge.text(forge.claims(official=official(k1="김\n민준"))),
        Code.CLAIMS_INVALID,
    ),
    Case(
        "birth date as text", lambda: forge.text(forge.claims(official=official(k3="1988-04-17"))), Code.CLAIMS_INVALID
    ),
    Case(
        "agency code of 6 digits", lambda: forge.text(forge.claims(official=official(k4=174100))), Code.CLAIMS_INVALID
    ),
    Case("agency code as bool", lambda: forge.text(forge.claims(official=official(k4=True))), Code.CLAIMS_INVALID),
    Case(
        "photo digest of 32 bytes",
        lambda: forge.text(forge.claims(official=official(k10=bytes(32)))),
        Code.CLAIMS_INVALID,
    ),
    Case(
        "status claim malformed",
        lambda: forge.text(forge.claims(status={"status_list": {"idx": -1, "uri": "u"}})),
        Code.CLAIMS_INVALID,
    ),
    Case(
        "status claim with extra member",
        lambda: forge.text(forge.claims(status={"status_list": {"idx": 1, "uri": "u", "x": 1}})),
        Code.CLAIMS_INVALID,
    ),
    Case("cnf not a COSE_Key", lambda: forge.text(forge.claims(cnf={1: {1: 99}})), Code.CLAIMS_INVALID),
    Case(
        "iss is not the key's issuer",
        lambda: forge.text(forge.claims(iss="KR-OTHER")),
        Code.CLAIMS_INVALID,
        lambda: verifier(TrustedKey(KEY.public_key, issuer="KR-MOIS")),
    ),
    # -- time
    Case("nbf in the future", lambda: forge.text(forge.claims(nbf=NOW + 3600)), Code.CWT_NOT_YET_VALID),
    Case(
        "iat in the future beyond leeway",
        lambda: forge.text(forge.claims(iat=NOW + 61, exp=NOW + 9999)),
        Code.CWT_NOT_YET_VALID,
    ),
    Case("expired", lambda: forge.text(forge.claims(iat=NOW - 9999, exp=NOW - 61)), Code.CWT_EXPIRED),
    Case(
        "expired exactly at the leeway edge",
        lambda: forge.text(forge.claims(iat=NOW - 9999, exp=NOW - 60)),
        Code.CWT_EXPIRED,
    ),
    # -- first failing step decides
    Case(
        "bad signature and expired: signature first",
        lambda: forge.text(forge.claims(iat=NOW - 9999, exp=NOW - 100), signature=bytes(64)),
        Code.SIGNATURE_INVALID,
    ),
    Case(
        "unknown kid and bad claims: kid first",
        lambda: forge.text(forge.claims(iss=None), key=OTHER),
        Code.KEY_NOT_IN_TRUST_LIST,
    ),
]


def raw_sign1(unprotected_raw: bytes) -> bytes:
    """A tagged COSE_Sign1 whose unprotected header is given as raw CBOR bytes."""
    valid = cose.decode_sign1(forge.sign1_bytes(), forge_limits())
    parts = [
        cbor2.dumps(valid.protected_bytes),
        unprotected_raw,
        cbor2.dumps(valid.payload),
        cbor2.dumps(valid.signature),
    ]
    return b"\xd2\x84" + b"".join(parts)


def _payload_with_duplicate_iss() -> bytes:
    raw = cbor.dumps(forge.claims())
    assert raw[0] == 0xA6  # a 6-entry map: add a seventh entry repeating key 1 (iss)
    return bytes([0xA7]) + raw[1:] + b"\x01\x63abc"


def _p256_point() -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.asymmetric import ec

    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")


def reference_signature() -> bytes:
    message = cose.decode_sign1(forge.sign1_bytes(), forge_limits())
    return message.signature


def forge_limits() -> Any:
    from vcsdk import DEFAULT_LIMITS

    return DEFAULT_LIMITS


def _reencoded_protected() -> str:
    """Signed over {1: -8, 4: kid} in one encoding, sent in another (non-canonical) one."""
    protected = cose.encode_protected({1: -8, 4: KEY.kid})
    signature = KEY.sign(cose.sig_structure(protected, cbor.dumps(forge.claims())))
    odd = b"\xa2\x01\x38\x07\x04\x48" + KEY.kid  # alg -8 with a 1-byte argument
    return forge.text(protected_bytes=odd, signature=signature)


def _signed_with_aad() -> str:
    payload = forge.sign1_bytes()
    message = cose.decode_sign1(payload, forge_limits())
    signature = KEY.sign(cose.sig_structure(message.protected_bytes, message.payload, b"context"))
    return forge.text(message.payload, signature=signature)
