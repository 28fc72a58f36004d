"""The verifier: QR text in, a :class:`VerifiedCredential` or one :class:`CredentialInvalid` out.

Steps run in DESIGN section 4 order and the first failing step decides the code:
length -> prefix -> Base45 -> zlib -> strict CBOR -> COSE structure -> alg -> kid -> key
validity at iat -> signature -> claims -> nbf/iat -> exp -> status.

The COSE payload (itself CBOR) is decoded strictly once the kid matched a trusted key, because
its ``iat`` selects the key's validity window; malformed payload CBOR is ``CBOR_MALFORMED``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..clock import Clock, system_clock
from ..codec import cose, cwt, qrtext
from ..codec.cbor import MAP_TYPES, TAG_EPOCH_DAYS
from ..codec.cwt import StatusReference
from ..errors import (
    ClaimsInvalid,
    CredentialInvalid,
    CWTExpired,
    CWTNotYetValid,
    KeyInvalid,
    StatusNeedsRenewal,
    StatusRevoked,
    StatusSuspended,
    StatusUnknown,
    UsageError,
)
from ..keys import PublicKey, public_key_from_cose_key
from ..limits import DEFAULT_LIMITS, Limits
from ..profiles.base import OFFICIAL_ID, Profile
from ..profiles.official_id import OFFICIAL_ID_CLAIM, OfficialID
from ..trust.store import TrustedKey, TrustStore
from .authenticate import Trace, authenticate
from .result import Verification, VerifiedCredential
from .status import Status, StatusCheck, StatusChecker, StatusPolicy

DEFAULT_LEEWAY_SECONDS = 60

_PAYLOAD_TAGS = frozenset({TAG_EPOCH_DAYS})
_CWT_KEYS = frozenset({cwt.ISS, cwt.EXP, cwt.NBF, cwt.IAT, cwt.CTI, cwt.CNF, cwt.STATUS, OFFICIAL_ID_CLAIM})
_CTI_BYTES = 16


class Verifier:
    """Verifies official-ID QR texts offline against trusted keys.

    ``trust`` is a :class:`TrustStore` or an iterable of public keys. ``status`` plugs in a
    status-list checker; with none, a credential that names a status list fails with
    ``STATUS_UNKNOWN`` unless ``status_policy`` is ``ALLOW_UNKNOWN``. ``clock`` returns Unix
    seconds; ``leeway`` (seconds) softens clock skew for nbf, iat and exp.
    """

    def __init__(
        self,
        trust: TrustStore | Iterable[PublicKey | TrustedKey],
        *,
        profile: Profile = OFFICIAL_ID,
        clock: Clock = system_clock,
        leeway: int = DEFAULT_LEEWAY_SECONDS,
        limits: Limits = DEFAULT_LIMITS,
        status: StatusChecker | None = None,
        status_policy: StatusPolicy = StatusPolicy.FAIL_CLOSED,
    ) -> None:
        if type(leeway) is not int or leeway < 0:
            raise UsageError("leeway must be a non-negative integer number of seconds")
        if not isinstance(status_policy, StatusPolicy):
            raise UsageError("status_policy must be a StatusPolicy")
        self._trust = trust if isinstance(trust, TrustStore) else TrustStore(trust)
        self._profile = profile
        self._clock = clock
        self._leeway = leeway
        self._limits = limits
        self._status = status
        self._status_policy = status_policy

    @property
    def trust(self) -> TrustStore:
        """The keys this verifier trusts."""
        return self._trust

    def verify(self, text: str | bytes) -> VerifiedCredential:
        """Verify at the clock's current time; raise :class:`CredentialInvalid` if not valid."""
        return self._run(qrtext.as_text(text), self._clock(), Trace())

    def verify_at(self, text: str | bytes, now: int) -> VerifiedCredential:
        """Verify as of ``now`` (Unix seconds) instead of the clock's time."""
        if type(now) is not int:
            raise UsageError("now must be integer Unix seconds")
        return self._run(qrtext.as_text(text), now, Trace())

    def check(self, text: str | bytes, now: int | None = None) -> Verification:
        """Like :meth:`verify` but returns a :class:`Verification` instead of raising.

        Only credential failures become results; misuse (:class:`UsageError`) still raises.
        """
        trace = Trace()
        when = self._clock() if now is None else now
        try:
            credential = self._run(qrtext.as_text(text), when, trace)
        except CredentialInvalid as exc:
            return Verification(False, exc.code, exc.message, trace.kid)
        return Verification(True, credential.code, "credential is valid", credential.kid, credential)

    # ------------------------------------------------------------------ pipeline

    def _run(self, text: str, now: int, trace: Trace) -> VerifiedCredential:
        limits = self._limits
        data = qrtext.unpack(text, self._profile.prefix, limits)
        message = cose.decode_sign1(data, limits)
        signer, payload = authenticate(message, self._trust, self._profile, limits, _PAYLOAD_TAGS, trace)
        kid = message.kid
        assert kid is not None  # authenticate() refuses a message without one

        claims = _parse_claims(payload)
        if signer.issuer is not None and claims.iss != signer.issuer:
            raise ClaimsInvalid(f"iss {claims.iss!r} is not the issuer of the signing key")
        self._check_times(claims, now)
        status_check = self._check_status(claims.status, now)
        return VerifiedCredential(
            profile=self._profile.name,
            kid=kid,
            issuer=claims.iss,
            credential_id=claims.cti,
            issued_at=claims.iat,
            not_before=claims.nbf,
            expires_at=claims.exp,
            claims=claims.official,
            status=claims.status,
            status_check=status_check,
            status_list_age=None
            if status_check is None or status_check.list_issued_at is None
            else now - status_check.list_issued_at,
            holder_key=claims.cnf,
            trust_source=signer.source,
        )

    def _check_times(self, claims: _Claims, now: int) -> None:
        leeway = self._leeway
        if claims.nbf is not None and claims.nbf > now + leeway:
            raise CWTNotYetValid(f"not valid before {claims.nbf} (now {now}, leeway {leeway}s)")
        if claims.iat > now + leeway:
            raise CWTNotYetValid(f"issued in the future at {claims.iat} (now {now}, leeway {leeway}s)")
        if now - leeway >= claims.exp:
            raise CWTExpired(f"expired at {claims.exp} (now {now}, leeway {leeway}s)")

    def _check_status(self, reference: StatusReference | None, now: int) -> StatusCheck | None:
        if reference is None:
            return None
        try:
            if self._status is None:
                raise StatusUnknown(f"no status list is configured for {reference.uri}")
            result = self._status.check(reference, now)
        except StatusUnknown:
            if self._status_policy is StatusPolicy.ALLOW_UNKNOWN:
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
        if self._status_policy is StatusPolicy.ALLOW_UNKNOWN:
            return None
        raise StatusUnknown(f"status value {value} has no meaning in the official-ID profile")


@dataclass(frozen=True, slots=True)
class _Claims:
    iss: str
    iat: int
    exp: int
    nbf: int | None
    cti: bytes
    cnf: PublicKey | None
    status: StatusReference | None
    official: OfficialID


def _parse_claims(payload: Any) -> _Claims:
    """Typed checks of the CWT claims of the official-ID profile."""
    if not isinstance(payload, MAP_TYPES):
        raise ClaimsInvalid("the CWT payload must be a map")
    if not _CWT_KEYS.issuperset(payload):
        unknown = [k for k in payload if k not in _CWT_KEYS]
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
    if type(cti) is not bytes or len(cti) != _CTI_BYTES:
        raise ClaimsInvalid(f"required claim cti must be {_CTI_BYTES} bytes")
    holder: PublicKey | None = None
    if cwt.CNF in payload:
        cnf = payload[cwt.CNF]
        if not isinstance(cnf, MAP_TYPES) or set(cnf.keys()) != {cwt.CNF_COSE_KEY}:
            raise ClaimsInvalid("cnf must be a map holding exactly a COSE_Key (label 1)")
        cose_key = cnf[cwt.CNF_COSE_KEY]
        if not isinstance(cose_key, MAP_TYPES):
            raise ClaimsInvalid("cnf COSE_Key must be a map")
        try:
            holder = public_key_from_cose_key(cose_key)
        except KeyInvalid as exc:
            raise ClaimsInvalid(f"cnf holds an unusable key: {exc.message}") from None
    status = StatusReference.from_cbor(payload[cwt.STATUS]) if cwt.STATUS in payload else None
    if OFFICIAL_ID_CLAIM not in payload:
        raise ClaimsInvalid(f"required claim {OFFICIAL_ID_CLAIM} (official-ID claims) is missing")
    official = OfficialID.from_cbor(payload[OFFICIAL_ID_CLAIM])
    return _Claims(iss, iat, exp, nbf, cti, holder, status, official)
