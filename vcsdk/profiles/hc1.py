"""Interop profile ``HC1:``: verify EU Digital COVID Certificates with keys from X.509 signer
certificates (ES256 with COSE raw ``r || s``, PS256), through ``cryptography``.

The same pipeline as the official ID (prefix, Base45, zlib, strict CBOR, COSE, the shared
authentication step); the profile binds its own algorithms and, as the DCC verifiers do,
accepts ``kid`` in both header buckets with the protected one winning. Trusted keys come from
DSC certificates: kid = the first 8 bytes of SHA-256 over the DER certificate, and the
certificate's validity must cover the credential's ``iat``.

Leniencies, each one that the EU's reference verifiers (hcert-kotlin, ValidationCore) accept in
certificates issued in the wild, and nothing beyond them (docs/hc1.md):

- an untagged COSE_Sign1 (a bare 4-element array), and a CWT tag 61 around the COSE tag 18
  (``61(18([...]))``); any other tag, or tag 61 without 18 inside, stays ``COSE_MALFORMED``;
- ``iat`` / ``exp`` as CBOR floats (finite; rounded down to whole seconds);
- date and date-time tags (0, 1, 100, 1004) inside the payload (the ``hcert`` claim); the
  envelope's own claims must still be plain numbers and text;
- ``alg`` in the unprotected bucket when the protected bucket has none: safe because the
  trusted key fixes its algorithm, so the unprotected value can only match it or be refused.

Everything the DCC test data lists as invalid stays refused (bad signature, wrong kid in the
protected bucket, clock before ``iat`` or after ``exp``, wrong CBOR/CWT structure, more than one
certificate in the payload, other prefixes, broken Base45 or zlib).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..clock import Clock, system_clock
from ..codec import cose, cwt, qrtext
from ..codec.cbor import MAP_TYPES
from ..errors import (
    ClaimsInvalid,
    Code,
    CredentialInvalid,
    CWTExpired,
    CWTNotYetValid,
    KeyInvalid,
    PublicKeyExpired,
    PublicKeyNotYetValid,
)
from ..inspection import jsonable
from ..keys import ALG_ES256, ALG_PS256, public_key_from_cryptography
from ..limits import DEFAULT_LIMITS, Limits
from ..trust.store import TrustedKey, TrustStore
from ..verify.authenticate import AuthPolicy, Trace, authenticate
from ..verify.result import Verification
from .base import Profile

HC1 = Profile(
    name="hc1-eu-dcc",
    prefix="HC1:",
    algorithms=frozenset({ALG_ES256, ALG_PS256}),
    qr_budget_chars=4296,
    qr_version=40,
    qr_ecc="Q",
    kid_in_both_buckets=True,
    claims="eu-dcc",
)
"""EU Digital COVID Certificate (eHealth network HCERT 1.x)."""

HCERT_CLAIM = -260
HCERT_DCC_V1 = 1
_KID_BOTH = frozenset({cose.HEADER_KID})
TAG_CWT = 61
_CWT_AROUND_SIGN1 = b"\xd8\x3d\xd2"  # 61(18(...)): the only tag pair the reference verifiers unwrap
PAYLOAD_DATE_TAGS = frozenset({0, 1, 100, 1004})
"""Date and date-time tags accepted inside the payload (RFC 8949 0 and 1, RFC 8943 100 and 1004)."""
_AUTH = AuthPolicy(
    "EU DCC",
    algorithms=HC1.algorithms,
    require_tag=False,  # the outer tag is checked by decode_sign1 (18 or none)
    shared_labels=_KID_BOTH,
    payload_tags=PAYLOAD_DATE_TAGS,
    iat_label=None,  # iat may be a float here: the certificate window is checked after (HC1Verifier._run)
)

_CERTIFICATE_KINDS = ("v", "t", "r")


def unwrap_cwt_tag(data: bytes) -> bytes:
    """Drop a CWT tag 61 that directly wraps a tagged COSE_Sign1; anything else is returned as is."""
    return data[2:] if data.startswith(_CWT_AROUND_SIGN1) else data


def with_unprotected_alg(message: cose.Sign1) -> cose.Sign1:
    """The message with an unprotected ``alg`` used when the protected bucket has none.

    The signature still covers the protected bytes exactly as received; the trusted key's own
    algorithm must equal this ``alg`` (checked by the authentication step).
    """
    if message.alg is not None or cose.HEADER_ALG not in message.unprotected:
        return message
    protected = {**message.protected, cose.HEADER_ALG: message.unprotected[cose.HEADER_ALG]}
    unprotected = {k: v for k, v in message.unprotected.items() if k != cose.HEADER_ALG}
    # an empty protected header is signed as a zero-length bstr, whatever was sent (RFC 9052 4.4)
    protected_bytes = message.protected_bytes if message.protected else b""
    return dataclasses.replace(message, protected_bytes=protected_bytes, protected=protected, unprotected=unprotected)


def numeric_date(claims: Mapping[Any, Any], key: int, name: str) -> int:
    """A required NumericDate: an integer, or a finite float (rounded down), as the DCC verifiers read it."""
    if key not in claims:
        raise ClaimsInvalid(f"required claim {name} is missing")
    value = claims[key]
    if cwt.is_int(value):
        return value
    if type(value) is float and math.isfinite(value) and abs(value) < 2**53:
        return math.floor(value)
    raise ClaimsInvalid(f"claim {name} must be a number of seconds (integer or finite float)")


def _one_certificate(dcc: Mapping[Any, Any]) -> None:
    """The DCC holds exactly one vaccination, test or recovery entry (DCC test case DGC2)."""
    kinds = [kind for kind in _CERTIFICATE_KINDS if kind in dcc]
    if len(kinds) != 1:
        raise ClaimsInvalid(f"the DCC must hold exactly one of v, t, r (found {', '.join(kinds) or 'none'})")
    entries = dcc[kinds[0]]
    if not isinstance(entries, (list, tuple)) or len(entries) != 1:
        raise ClaimsInvalid(f"the DCC's {kinds[0]} must be an array of exactly one entry")


def certificate_kid(der: bytes) -> bytes:
    """The DCC kid of a signer certificate: SHA-256 over its DER encoding, first 8 bytes."""
    return hashlib.sha256(der).digest()[:8]


def signer_certificates(data: bytes) -> list[TrustedKey]:
    """Trusted keys from a PEM file (one or more certificates) or one DER certificate."""
    try:
        certificates = (
            x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
        )
    except ValueError as exc:
        raise KeyInvalid(f"not an X.509 certificate ({exc})") from None
    keys = []
    for certificate in certificates:
        der = certificate.public_bytes(serialization.Encoding.DER)
        key = public_key_from_cryptography(certificate.public_key(), certificate_kid(der))
        if key.alg not in HC1.algorithms:
            raise KeyInvalid(f"certificate {certificate.subject.rfc4514_string()}: key type not usable for ES256/PS256")
        keys.append(
            TrustedKey(
                key,
                not_before=int(certificate.not_valid_before_utc.timestamp()),
                not_after=int(certificate.not_valid_after_utc.timestamp()),
                source=f"x509 {certificate.subject.rfc4514_string()}",
            )
        )
    return keys


@dataclass(frozen=True, slots=True)
class HC1Credential:
    """A verified EU DCC: its CWT envelope and the certificate payload (``hcert`` v1)."""

    kid: bytes
    issuer: str | None
    issued_at: int
    expires_at: int
    dcc: Mapping[str, Any]
    trust_source: str

    def claims_json(self) -> dict[str, Any]:
        """The DCC payload (hcert v1), JSON-ready."""
        return dict(self.dcc)


class HC1Verifier:
    """Verifies ``HC1:`` QR texts against DSC certificates (ES256 / PS256 only)."""

    def __init__(
        self,
        trust: TrustStore | Iterable[TrustedKey],
        *,
        clock: Clock = system_clock,
        leeway: int = 60,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._trust = trust if isinstance(trust, TrustStore) else TrustStore(trust, source="x509 certificates")
        self._clock = clock
        self._leeway = leeway
        self._limits = limits

    def verify(self, text: str | bytes, now: int | None = None) -> HC1Credential:
        """Verify; raise a :class:`CredentialInvalid` subclass with its code if not valid."""
        return self._run(qrtext.as_text(text), self._clock() if now is None else now, Trace())

    def verify_at(self, text: str | bytes, now: int) -> HC1Credential:
        """Verify as of ``now`` (Unix seconds)."""
        return self._run(qrtext.as_text(text), now, Trace())

    def check_many(self, texts: Iterable[str | bytes], now: int | None = None) -> list[Verification[HC1Credential]]:
        """:meth:`check` over many texts at one time."""
        when = self._clock() if now is None else now
        return [self.check(text, when) for text in texts]

    def check(self, text: str | bytes, now: int | None = None) -> Verification[HC1Credential]:
        """Verify without raising for invalid credentials."""
        trace = Trace()
        try:
            credential = self._run(qrtext.as_text(text), self._clock() if now is None else now, trace)
        except CredentialInvalid as exc:
            return Verification(False, exc.code, exc.message, trace.kid)
        return Verification(True, Code.VALID, "credential is valid", credential.kid, credential)

    def _run(self, text: str, now: int, trace: Trace) -> HC1Credential:
        limits = self._limits
        data = unwrap_cwt_tag(qrtext.unpack(text, HC1.prefix, limits))
        message = cose.decode_sign1(data, limits, require_tag=False, shared_labels=_KID_BOTH)
        message = with_unprotected_alg(message)
        auth = authenticate(message, self._trust, _AUTH, limits, trace)
        signer, payload = auth.signer, auth.payload
        if not isinstance(payload, MAP_TYPES):
            raise ClaimsInvalid("the CWT payload must be a map")
        iat = numeric_date(payload, cwt.IAT, "iat")
        exp = numeric_date(payload, cwt.EXP, "exp")
        # the signer's certificate must cover iat, also when iat came as a float
        if signer.not_before is not None and iat < signer.not_before:
            raise PublicKeyNotYetValid(f"the signing certificate is valid from {signer.not_before}, after iat {iat}")
        if signer.not_after is not None and iat > signer.not_after:
            raise PublicKeyExpired(f"the signing certificate's validity ended at {signer.not_after}, before iat {iat}")
        iss = payload.get(cwt.ISS)
        if iss is not None and not isinstance(iss, str):
            raise ClaimsInvalid("iss must be text")
        hcert = payload.get(HCERT_CLAIM)
        if not isinstance(hcert, MAP_TYPES) or not isinstance(hcert.get(HCERT_DCC_V1), MAP_TYPES):
            raise ClaimsInvalid("claim -260 (hcert) must hold the DCC v1 map under key 1")
        _outside_hcert_untagged(payload)
        _one_certificate(hcert[HCERT_DCC_V1])
        if iat > now + self._leeway:
            raise CWTNotYetValid(f"issued in the future at {iat}")
        if now - self._leeway >= exp:
            raise CWTExpired(f"expired at {exp}")
        kid = message.kid
        assert kid is not None
        return HC1Credential(kid, iss, iat, exp, jsonable(hcert[HCERT_DCC_V1]), signer.source)


def _outside_hcert_untagged(payload: Mapping[Any, Any]) -> None:
    """Date tags are accepted inside ``hcert`` only; the envelope's claims stay plain."""
    for key, value in payload.items():
        if key != HCERT_CLAIM and isinstance(value, (cbor2.CBORTag, date)):
            raise ClaimsInvalid(f"claim {key} must not be a tagged value")
