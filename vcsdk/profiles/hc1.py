"""Interop profile ``HC1:``: verify EU Digital COVID Certificates with keys from X.509 signer
certificates (ES256 with COSE raw ``r || s``, PS256), through ``cryptography``.

The same pipeline as the official ID (prefix, Base45, zlib, strict CBOR, COSE, the shared
authentication step); the profile binds its own algorithms and, as the DCC verifiers do,
accepts ``kid`` in both header buckets with the protected one winning. Trusted keys come from
DSC certificates: kid = the first 8 bytes of SHA-256 over the DER certificate, and the
certificate's validity must cover the credential's ``iat``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..clock import Clock, system_clock
from ..codec import cose, cwt, qrtext
from ..codec.cbor import MAP_TYPES
from ..errors import ClaimsInvalid, Code, CredentialInvalid, CWTExpired, CWTNotYetValid, KeyInvalid
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
_AUTH = AuthPolicy(
    "EU DCC", algorithms=HC1.algorithms, require_tag=False, shared_labels=_KID_BOTH
)  # tags: decode_sign1


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
        data = qrtext.unpack(text, HC1.prefix, limits)
        message = cose.decode_sign1(data, limits, shared_labels=_KID_BOTH)
        auth = authenticate(message, self._trust, _AUTH, limits, trace)
        signer, payload = auth.signer, auth.payload
        if not isinstance(payload, MAP_TYPES):
            raise ClaimsInvalid("the CWT payload must be a map")
        iat = cwt.get_int(payload, cwt.IAT, required=True)
        exp = cwt.get_int(payload, cwt.EXP, required=True)
        assert iat is not None and exp is not None
        iss = payload.get(cwt.ISS)
        if iss is not None and not isinstance(iss, str):
            raise ClaimsInvalid("iss must be text")
        hcert = payload.get(HCERT_CLAIM)
        if not isinstance(hcert, MAP_TYPES) or not isinstance(hcert.get(HCERT_DCC_V1), MAP_TYPES):
            raise ClaimsInvalid("claim -260 (hcert) must hold the DCC v1 map under key 1")
        if iat > now + self._leeway:
            raise CWTNotYetValid(f"issued in the future at {iat}")
        if now - self._leeway >= exp:
            raise CWTExpired(f"expired at {exp}")
        kid = message.kid
        assert kid is not None
        return HC1Credential(kid, iss, iat, exp, jsonable(hcert[HCERT_DCC_V1]), signer.source)
