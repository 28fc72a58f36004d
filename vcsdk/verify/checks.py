"""The checks every official-ID verify path shares (reference verifier, fast lane, gate,
presentations): typed claims, times, validity span and status. Pure functions of their
arguments, so each path calls the same code instead of another path's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..codec import cwt
from ..codec.cbor import MAP_TYPES, TAG_EPOCH_DAYS, int_keyed
from ..codec.cwt import StatusReference
from ..errors import (
    ClaimsInvalid,
    CWTExpired,
    CWTNotYetValid,
    KeyInvalid,
    KeyProofInvalid,
    StatusClaimMissing,
    StatusNeedsRenewal,
    StatusRevoked,
    StatusSuspended,
    StatusUnknown,
    UsageError,
)
from ..keys import Ed25519PublicKey, PublicKey, public_key_from_cose_key
from ..profiles.official_id import OFFICIAL_ID_CLAIM, OfficialID
from ..trust.store import TrustedKey
from .authenticate import AuthPolicy
from .status import Status, StatusCheck, StatusChecker, StatusPolicy

DEFAULT_LEEWAY_SECONDS = 60
MAX_LEEWAY_SECONDS = 300
"""Hard bound: no verifier or bundle policy may allow more clock skew than this."""
DEFAULT_MAX_VALIDITY_SECONDS = (3 * 365 + 1) * 86_400
"""Longest credential validity (exp - iat) accepted by default: three years (one leap day
included); the leeway is added on top."""

PAYLOAD_TAGS = frozenset({TAG_EPOCH_DAYS})
_INT_ONLY = frozenset({int})
CWT_KEYS = frozenset({cwt.ISS, cwt.EXP, cwt.NBF, cwt.IAT, cwt.CTI, cwt.CNF, cwt.STATUS, OFFICIAL_ID_CLAIM})
CTI_BYTES = 16


def credential_auth_policy(algorithms: frozenset[int], shared_labels: frozenset[int] = frozenset()) -> AuthPolicy:
    """The authentication rules of a credential: the profile's algorithms, tag 18, window at iat."""
    return AuthPolicy(
        "credential", algorithms=algorithms, shared_labels=shared_labels, payload_tags=PAYLOAD_TAGS, iat_label=cwt.IAT
    )


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """What a verifier demands beyond a valid signature.

    ``leeway`` softens clock skew for nbf, iat and exp (at most :data:`MAX_LEEWAY_SECONDS`);
    ``status`` says what happens when status cannot be established; ``require_status`` refuses
    a credential without a status claim (``STATUS_CLAIM_MISSING``); ``max_validity`` refuses a
    credential whose exp - iat exceeds it (plus leeway) as ``CLAIMS_INVALID`` (None: no bound).
    """

    leeway: int = DEFAULT_LEEWAY_SECONDS
    status: StatusPolicy = StatusPolicy.FAIL_CLOSED
    require_status: bool = True
    max_validity: int | None = DEFAULT_MAX_VALIDITY_SECONDS

    def __post_init__(self) -> None:
        if type(self.leeway) is not int or not 0 <= self.leeway <= MAX_LEEWAY_SECONDS:
            raise UsageError(f"leeway must be an integer number of seconds from 0 to {MAX_LEEWAY_SECONDS}")
        if not isinstance(self.status, StatusPolicy):
            raise UsageError("status_policy must be a StatusPolicy")
        if type(self.require_status) is not bool:
            raise UsageError("require_status must be a bool")
        if self.max_validity is not None and (type(self.max_validity) is not int or self.max_validity <= 0):
            raise UsageError("max_validity must be a positive number of seconds or None")


@dataclass(frozen=True, slots=True)
class CWTClaims:
    """The typed CWT claims of an official-ID credential."""

    iss: str
    iat: int
    exp: int
    nbf: int | None
    cti: bytes
    cnf: PublicKey | None
    status: StatusReference | None
    official: OfficialID


def parse_claims(payload: Any) -> CWTClaims:
    """Typed checks of the CWT claims of the official-ID profile (``CLAIMS_INVALID``)."""
    if not isinstance(payload, MAP_TYPES):
        raise ClaimsInvalid("the CWT payload must be a map")
    if not _INT_ONLY.issuperset(map(type, payload)):  # int_keyed(), inlined: every scan runs it
        raise ClaimsInvalid("CWT claim keys must be integers (true or 1.0 is not a claim key)")
    if not CWT_KEYS.issuperset(payload):
        unknown = [k for k in payload if k not in CWT_KEYS]
        raise ClaimsInvalid(f"claim key(s) {unknown!r} are not part of the official-ID profile")
    iss = payload.get(cwt.ISS)
    if not isinstance(iss, str) or not iss:
        raise ClaimsInvalid("required claim iss must be non-empty text")
    iat = cwt.get_int(payload, cwt.IAT, required=True)
    exp = cwt.get_int(payload, cwt.EXP, required=True)
    nbf = cwt.get_int(payload, cwt.NBF, required=False)
    assert iat is not None and exp is not None
    if exp <= iat:
        raise ClaimsInvalid("exp must be after iat")
    cti = payload.get(cwt.CTI)
    if type(cti) is not bytes or len(cti) != CTI_BYTES:
        raise ClaimsInvalid(f"required claim cti must be {CTI_BYTES} bytes")
    holder = parse_cnf(payload[cwt.CNF]) if cwt.CNF in payload else None
    status = StatusReference.from_cbor(payload[cwt.STATUS]) if cwt.STATUS in payload else None
    if OFFICIAL_ID_CLAIM not in payload:
        raise ClaimsInvalid(f"required claim {OFFICIAL_ID_CLAIM} (official-ID claims) is missing")
    official = OfficialID.from_cbor(payload[OFFICIAL_ID_CLAIM])
    return CWTClaims(iss, iat, exp, nbf, cti, holder, status, official)


def parse_cnf(cnf: Any) -> PublicKey:
    """The holder key of a ``cnf`` claim (RFC 8747 COSE_Key); a small-order or non-canonical
    Ed25519 point is refused (``CLAIMS_INVALID``): such a key lets anyone sign. The full
    subgroup check ran when the issuer bound the key (see :func:`check_device_key_encoding`)."""
    from ..holder.proof import check_device_key_encoding

    if not isinstance(cnf, MAP_TYPES) or not int_keyed(cnf) or set(cnf.keys()) != {cwt.CNF_COSE_KEY}:
        raise ClaimsInvalid("cnf must be a map holding exactly a COSE_Key (label 1)")
    cose_key = cnf[cwt.CNF_COSE_KEY]
    if not isinstance(cose_key, MAP_TYPES) or not int_keyed(cose_key):
        raise ClaimsInvalid("cnf COSE_Key must be a map with integer labels")
    try:
        holder = public_key_from_cose_key(cose_key)
        if isinstance(holder, Ed25519PublicKey):
            check_device_key_encoding(holder)
    except (KeyInvalid, KeyProofInvalid) as exc:
        raise ClaimsInvalid(f"cnf holds an unusable key: {exc.message}") from None
    return holder


def check_claims_policy(claims: CWTClaims, signer: TrustedKey, policy: VerifyPolicy) -> None:
    """The signing key belongs to ``iss`` (when the trust source says whose it is), the validity
    span (both ``CLAIMS_INVALID``) and the status-claim requirement (``STATUS_CLAIM_MISSING``)."""
    if signer.issuer is not None and claims.iss != signer.issuer:
        raise ClaimsInvalid(f"iss {claims.iss!r} is not the issuer of the signing key")
    if policy.max_validity is not None and claims.exp - claims.iat > policy.max_validity + policy.leeway:
        raise ClaimsInvalid(
            f"validity of {claims.exp - claims.iat} s exceeds the policy maximum of {policy.max_validity} s"
        )
    if policy.require_status and claims.status is None:
        raise StatusClaimMissing("the credential has no status claim: it could never be revoked")


def check_times(claims: CWTClaims, now: int, leeway: int) -> None:
    """nbf and iat not in the future (``CWT_NOT_YET_VALID``), exp not past (``CWT_EXPIRED``)."""
    if claims.nbf is not None and claims.nbf > now + leeway:
        raise CWTNotYetValid(f"not valid before {claims.nbf} (now {now}, leeway {leeway}s)")
    if claims.iat > now + leeway:
        raise CWTNotYetValid(f"issued in the future at {claims.iat} (now {now}, leeway {leeway}s)")
    if now - leeway >= claims.exp:
        raise CWTExpired(f"expired at {claims.exp} (now {now}, leeway {leeway}s)")


def check_status(
    claims: CWTClaims,
    signer: TrustedKey,
    now: int,
    checker: StatusChecker | None,
    policy: StatusPolicy,
) -> StatusCheck | None:
    """The credential's status from lists of its own issuer; None when there is none to check
    or the policy allows unknown status."""
    reference = claims.status
    if reference is None:
        return None
    try:
        if checker is None:
            raise StatusUnknown(f"no status list is configured for {reference.uri}")
        result = checker.check(reference, now, issuer=claims.iss, signer=signer)
    except StatusUnknown:
        if policy is StatusPolicy.ALLOW_UNKNOWN:
            return None
        raise
    value = result.value
    if value == Status.VALID:
        return result
    if value == Status.REVOKED:
        raise StatusRevoked(f"credential revoked (list {reference.uri}, index {reference.idx})")
    if value == Status.SUSPENDED:
        raise StatusSuspended(f"credential suspended (list {reference.uri}, index {reference.idx})")
    if value == Status.NEEDS_RENEWAL:
        raise StatusNeedsRenewal(f"credential must be renewed (list {reference.uri}, index {reference.idx})")
    if policy is StatusPolicy.ALLOW_UNKNOWN:
        return None
    raise StatusUnknown(f"status value {value} has no meaning in the official-ID profile")
