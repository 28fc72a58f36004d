"""The issuer: official-ID claims in, a signed, prefixed QR text out."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..clock import Clock, system_clock
from ..codec import cbor, cose, cwt, qrtext
from ..codec.cwt import StatusReference
from ..errors import IssuanceClaimsInvalid, KeyProofInvalid, QRSizeBudgetExceeded, UsageError
from ..holder.proof import KeyProof, check_device_key
from ..keys import Ed25519PrivateKey, Ed25519PublicKey, PublicKey
from ..profiles.base import OFFICIAL_ID, Profile
from ..profiles.official_id import OFFICIAL_ID_CLAIM, OfficialID

DEFAULT_VALIDITY_SECONDS = 3 * 365 * 24 * 3600
"""Three years (DESIGN section 3's reference credential)."""
CTI_BYTES = 16


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """What issuance produced. ``qr_text`` goes into the QR code; ``cose`` is the signed CWT."""

    qr_text: str
    cose: bytes
    credential_id: bytes
    kid: bytes
    issuer: str
    issued_at: int
    not_before: int | None
    expires_at: int
    claims: OfficialID
    status: StatusReference | None
    profile: str


class Issuer:
    """Signs official-ID credentials with one Ed25519 key.

    >>> issuer = Issuer(Ed25519PrivateKey.generate(), "KR-MOIS")  # doctest: +SKIP
    >>> issuer.issue({...}).qr_text                                # doctest: +SKIP
    'GID1:...'
    """

    def __init__(
        self,
        key: Ed25519PrivateKey,
        issuer_id: str,
        *,
        profile: Profile = OFFICIAL_ID,
        clock: Clock = system_clock,
        validity_seconds: int = DEFAULT_VALIDITY_SECONDS,
    ) -> None:
        if not isinstance(key, Ed25519PrivateKey):
            raise UsageError("the official-ID issuer signs with an Ed25519PrivateKey")
        if key.alg not in profile.algorithms:
            raise UsageError(f"profile {profile.name} does not accept the key's algorithm")
        if not isinstance(issuer_id, str) or not issuer_id:
            raise UsageError("issuer_id (the iss claim) must be non-empty text")
        if type(validity_seconds) is not int or validity_seconds <= 0:
            raise UsageError("validity_seconds must be a positive integer")
        self._key = key
        self._issuer_id = issuer_id
        self._profile = profile
        self._clock = clock
        self._validity = validity_seconds
        self._protected = cose.encode_protected({cose.HEADER_ALG: key.alg, cose.HEADER_KID: key.kid})

    @property
    def kid(self) -> bytes:
        """The kid of the signing key (what verifiers look up)."""
        return self._key.kid

    @property
    def issuer_id(self) -> str:
        """The ``iss`` claim this issuer writes."""
        return self._issuer_id

    def issue(
        self,
        claims: OfficialID | Mapping[str, Any],
        *,
        status: StatusReference | None = None,
        holder_key: PublicKey | None = None,
        holder: KeyProof | None = None,
        issued_at: int | None = None,
        not_before: int | None = None,
        expires_at: int | None = None,
        credential_id: bytes | None = None,
    ) -> IssuedCredential:
        """Issue one credential.

        ``claims`` is an :class:`OfficialID` or its JSON form; either way it is validated
        against the JSON Schema and every violation is listed (:class:`IssuanceClaimsInvalid`).
        ``issued_at`` defaults to the clock, ``expires_at`` to ``issued_at`` + validity,
        ``credential_id`` to 16 random bytes. Raises :class:`QRSizeBudgetExceeded` when the QR
        text would not fit the profile's budget (a bound credential has the larger bound budget).

        Holder binding: ``holder`` is a :class:`KeyProof` the caller verified
        (:func:`vcsdk.holder.verify_key_proof`, its nonce consumed); its device key goes into
        ``cnf``. ``holder_key`` binds a key whose possession the caller established otherwise
        (e.g. recorded from an earlier verified proof); never pass a key nobody proved.
        """
        if holder is not None:
            if not isinstance(holder, KeyProof):
                raise UsageError("holder must be a verified KeyProof (vcsdk.holder.verify_key_proof)")
            if holder_key is not None and holder_key != holder.device_key:
                raise UsageError("holder and holder_key name different device keys")
            holder_key = holder.device_key
        if isinstance(holder_key, Ed25519PublicKey):
            # the full subgroup check runs here, once: verifiers only check the encoding
            try:
                check_device_key(holder_key)
            except KeyProofInvalid as exc:
                raise UsageError(exc.message) from None
        official = OfficialID.from_json(claims.to_json() if isinstance(claims, OfficialID) else claims)
        iat = self._clock() if issued_at is None else issued_at
        if type(iat) is not int:
            raise IssuanceClaimsInvalid("issued_at must be integer Unix seconds")
        exp = iat + self._validity if expires_at is None else expires_at
        cti = os.urandom(CTI_BYTES) if credential_id is None else credential_id
        self._check_envelope(iat, exp, not_before, cti, status, holder_key)

        payload: dict[int, Any] = {cwt.ISS: self._issuer_id, cwt.IAT: iat, cwt.EXP: exp, cwt.CTI: cti}
        if not_before is not None:
            payload[cwt.NBF] = not_before
        if holder_key is not None:
            payload[cwt.CNF] = {cwt.CNF_COSE_KEY: _cnf_key(holder_key)}
        if status is not None:
            payload[cwt.STATUS] = status.to_cbor()
        payload[OFFICIAL_ID_CLAIM] = official.to_cbor()

        payload_bytes = cbor.dumps(payload)
        signature = self._key.sign(cose.sig_structure(self._protected, payload_bytes))
        message = cose.encode_sign1(self._protected, {}, payload_bytes, signature)
        text = qrtext.pack(message, self._profile.prefix)
        budget, version = self._profile.budget(holder_key is not None)
        if len(text) > budget:
            kind = "bound " if holder_key is not None and budget != self._profile.qr_budget_chars else ""
            raise QRSizeBudgetExceeded(
                f"QR text of {len(text)} characters exceeds the {self._profile.name} {kind}budget of "
                f"{budget} (QR version {version}, ECC {self._profile.qr_ecc}); shorten optional claims"
            )
        return IssuedCredential(
            qr_text=text,
            cose=message,
            credential_id=cti,
            kid=self._key.kid,
            issuer=self._issuer_id,
            issued_at=iat,
            not_before=not_before,
            expires_at=exp,
            claims=official,
            status=status,
            profile=self._profile.name,
        )

    @staticmethod
    def _check_envelope(
        iat: int,
        exp: int,
        nbf: int | None,
        cti: bytes,
        status: StatusReference | None,
        holder_key: PublicKey | None,
    ) -> None:
        problems: list[str] = []
        for name, value in (("issued_at", iat), ("expires_at", exp), ("not_before", nbf)):
            if value is not None and (type(value) is not int or value < 0):
                problems.append(f"{name} must be a non-negative integer (Unix seconds)")
        if not problems and exp <= iat:
            problems.append("expires_at must be after issued_at")
        if not problems and nbf is not None and nbf >= exp:
            problems.append("not_before must be before expires_at")
        if not isinstance(cti, bytes) or len(cti) != CTI_BYTES:
            problems.append(f"credential_id must be {CTI_BYTES} bytes")
        if status is not None and not isinstance(status, StatusReference):
            problems.append("status must be a StatusReference")
        if holder_key is not None and not isinstance(holder_key, PublicKey):
            problems.append("holder_key must be a public key")
        if problems:
            raise IssuanceClaimsInvalid("; ".join(problems), details=tuple(problems))


def _cnf_key(key: PublicKey) -> dict[int, Any]:
    """The device key as ``cnf`` carries it: an Ed25519 key as exactly ``{1: 1, -1: 6, -2: x}``."""
    if isinstance(key, Ed25519PublicKey):
        return {1: 1, -1: 6, -2: key.raw}
    return key.to_cose_key()
