"""The verifier: QR text in, a :class:`VerifiedCredential` or one :class:`CredentialInvalid` out.

Steps run in DESIGN section 4 order and the first failing step decides the code:
trust source expiry -> length -> prefix -> Base45 -> zlib -> strict CBOR -> COSE structure ->
alg -> kid -> key validity at iat -> signature -> claims -> validity span and status claim ->
nbf/iat -> exp -> status.

The COSE payload (itself CBOR) is decoded strictly once the kid matched a trusted key, because
its ``iat`` selects the key's validity window; malformed payload CBOR is ``CBOR_MALFORMED``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..clock import Clock, system_clock
from ..codec import qrtext
from ..errors import CredentialInvalid, TrustListExpired, UsageError
from ..holder.presentation import PRESENTATION_PREFIX, Presentation, decode_presentation
from ..keys import PublicKey
from ..limits import DEFAULT_LIMITS, Limits
from ..profiles.base import OFFICIAL_ID, Profile
from ..trust.store import TrustedKey, TrustStore
from .authenticate import Trace, open_sign1
from .checks import (
    DEFAULT_LEEWAY_SECONDS,
    DEFAULT_MAX_VALIDITY_SECONDS,
    CWTClaims,
    VerifyPolicy,
    check_claims_policy,
    check_status,
    check_times,
    credential_auth_policy,
    parse_claims,
)
from .presentation import (
    DEFAULT_PRESENTATION_WINDOW,
    HolderBinding,
    PresentationGuard,
    check_presentation,
    require_presentation,
)
from .result import Verification, VerifiedCredential, new_verified_credential
from .status import StatusChecker, StatusPolicy


def check_trust_fresh(trust: TrustStore, now: int) -> None:
    """``TRUST_LIST_EXPIRED`` once the trust source (a signed trust list or bundle) has expired:
    checked on every verification, not only when the source was loaded."""
    if trust.expires_at is not None and now >= trust.expires_at:
        raise TrustListExpired(f"the trust source ({trust.source}) expired at {trust.expires_at}")


class Verifier:
    """Verifies official-ID QR texts offline against trusted keys.

    ``trust`` is a :class:`TrustStore` or an iterable of public keys. ``status`` plugs in a
    status-list checker; with none, a credential that names a status list fails with
    ``STATUS_UNKNOWN`` unless ``status_policy`` is ``ALLOW_UNKNOWN``. ``clock`` returns Unix
    seconds; ``leeway`` (seconds, at most 300) softens clock skew for nbf, iat and exp.
    ``require_status`` (default: the profile's rule, on for the official ID) refuses a
    credential without a status claim; ``max_validity`` bounds exp - iat (default three years).

    Only profiles whose claims are the official ID's are accepted: ``HC1:`` texts go to
    :class:`vcsdk.profiles.hc1.HC1Verifier`.

    Holder binding: ``GIDP1:`` presentations are verified too (the inner credential exactly as
    a bare one, then the device signature, ``presentation_window`` seconds each way plus leeway,
    the challenge and the replay cache of ``presentations``, one :class:`PresentationGuard` per
    gate, a fresh one by default). ``holder_binding`` decides which bare credentials are
    refused with ``PRESENTATION_REQUIRED``.
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
        require_status: bool | None = None,
        max_validity: int | None = DEFAULT_MAX_VALIDITY_SECONDS,
        holder_binding: HolderBinding | str = HolderBinding.IF_BOUND,
        presentation_window: int = DEFAULT_PRESENTATION_WINDOW,
        presentations: PresentationGuard | None = None,
    ) -> None:
        if not isinstance(profile, Profile) or profile.claims != OFFICIAL_ID.claims:
            raise UsageError(
                f"Verifier checks official-ID claims; profile {getattr(profile, 'name', profile)!r} has "
                "other claims (use vcsdk.profiles.hc1.HC1Verifier for HC1)"
            )
        self._policy = VerifyPolicy(
            leeway=leeway,
            status=status_policy,
            require_status=profile.status_required if require_status is None else require_status,
            max_validity=max_validity,
        )
        if type(presentation_window) is not int or presentation_window < 0:
            raise UsageError("presentation_window must be a non-negative integer number of seconds")
        if presentations is not None and not isinstance(presentations, PresentationGuard):
            raise UsageError("presentations must be a PresentationGuard")
        self._holder_binding = HolderBinding.parse(holder_binding)
        self._window = presentation_window
        self._guard = PresentationGuard() if presentations is None else presentations
        self._trust = trust if isinstance(trust, TrustStore) else TrustStore(trust)
        self._profile = profile
        self._clock = clock
        self._limits = limits
        self._status = status
        self._auth = credential_auth_policy(profile.algorithms)

    # ------------------------------------------------------------------ public seams

    @property
    def trust(self) -> TrustStore:
        """The keys this verifier trusts."""
        return self._trust

    @property
    def profile(self) -> Profile:
        """The wire format verified."""
        return self._profile

    @property
    def limits(self) -> Limits:
        """The resource caps applied to every input."""
        return self._limits

    @property
    def clock(self) -> Clock:
        """The clock ``verify`` and ``check`` read."""
        return self._clock

    @property
    def policy(self) -> VerifyPolicy:
        """Leeway, status policy, status-claim requirement and validity bound."""
        return self._policy

    @property
    def status_checker(self) -> StatusChecker | None:
        """The status-list checker, if any."""
        return self._status

    @property
    def holder_binding(self) -> HolderBinding:
        """Which bare credentials this verifier refuses (``PRESENTATION_REQUIRED``)."""
        return self._holder_binding

    @property
    def presentations(self) -> PresentationGuard:
        """This verifier's challenge book and replay cache."""
        return self._guard

    # ------------------------------------------------------------------ API

    def verify(self, text: str | bytes) -> VerifiedCredential:
        """Verify at the clock's current time; raise :class:`CredentialInvalid` if not valid."""
        return self.verify_at(text, self._clock())

    def verify_at(self, text: str | bytes, now: int) -> VerifiedCredential:
        """Verify as of ``now`` (Unix seconds) instead of the clock's time."""
        if type(now) is not int:
            raise UsageError("now must be integer Unix seconds")
        return self._run(qrtext.as_text(text), now, Trace())

    def verify_cose(self, data: bytes, now: int, trace: Trace | None = None) -> VerifiedCredential:
        """Verify a credential given as its tagged COSE_Sign1 bytes (no prefix, Base45 or zlib),
        e.g. the credential inside a presentation: every check of :meth:`verify_at`, status included."""
        if type(now) is not int:
            raise UsageError("now must be integer Unix seconds")
        check_trust_fresh(self._trust, now)
        return self._cose(data, now, trace or Trace())

    def check(self, text: str | bytes, now: int | None = None) -> Verification[VerifiedCredential]:
        """Like :meth:`verify` but returns a :class:`Verification` instead of raising.

        Only credential failures become results; misuse (:class:`UsageError`) still raises.
        """
        trace = Trace()
        when = self._clock() if now is None else now
        if type(when) is not int:
            raise UsageError("now must be integer Unix seconds")
        try:
            credential = self._run(qrtext.as_text(text), when, trace)
        except CredentialInvalid as exc:
            return Verification(False, exc.code, exc.message, trace.kid)
        return Verification(True, credential.code, "credential is valid", credential.kid, credential)

    def check_many(
        self, texts: Iterable[str | bytes], now: int | None = None
    ) -> list[Verification[VerifiedCredential]]:
        """:meth:`check` over many texts at one time."""
        when = self._clock() if now is None else now
        return [self.check(text, when) for text in texts]

    def recheck(self, credential: VerifiedCredential, claims: CWTClaims, now: int) -> VerifiedCredential:
        """Re-run the time-dependent checks (trust expiry, times, status) of a credential this
        verifier accepted earlier: what a repeat-scan cache needs."""
        expires_at = self._trust.expires_at
        if expires_at is not None and now >= expires_at:
            check_trust_fresh(self._trust, now)  # raises TRUST_LIST_EXPIRED
        policy = self._policy
        check_times(claims, now, policy.leeway)
        status_check = check_status(claims, credential.signer, now, self._status, policy.status)
        age = None if status_check is None or status_check.list_issued_at is None else now - status_check.list_issued_at
        if status_check is credential.status_check and age == credential.status_list_age:
            return credential
        return credential.replace_status(status_check, age)

    def finish(self, signer: TrustedKey, kid: bytes, payload: object, now: int) -> tuple[VerifiedCredential, CWTClaims]:
        """Everything after authentication: claims, policy, times and status (shared with the fast lane)."""
        return self.finish_claims(signer, kid, parse_claims(payload), now)

    def finish_claims(
        self, signer: TrustedKey, kid: bytes, claims: CWTClaims, now: int
    ) -> tuple[VerifiedCredential, CWTClaims]:
        """:meth:`finish` for claims already typed (the compiled lane reads them in C)."""
        policy = self._policy
        check_claims_policy(claims, signer, policy)
        check_times(claims, now, policy.leeway)
        status_check = check_status(claims, signer, now, self._status, policy.status)
        credential = new_verified_credential(
            self._profile.name,
            kid,
            claims.iss,
            claims.cti,
            claims.iat,
            claims.nbf,
            claims.exp,
            claims.official,
            claims.status,
            status_check,
            None if status_check is None or status_check.list_issued_at is None else now - status_check.list_issued_at,
            claims.cnf,
            signer.source,
            signer,
            None,  # presentation: set by with_presentation when it came inside one
        )
        return credential, claims

    def presented(
        self,
        presentation: Presentation,
        inner: VerifiedCredential,
        now: int,
        verify: Callable[[PublicKey, bytes, bytes], None] | None = None,
    ) -> VerifiedCredential:
        """The holder-binding steps for a presentation whose inner credential verified (shared with
        the fast lane): device signature, window, challenge, replay. ``verify`` replaces the device
        key's own ``verify`` (the compiled lane)."""
        return check_presentation(
            presentation,
            inner,
            now=now,
            window=self._window,
            leeway=self._policy.leeway,
            guard=self._guard,
            verify=verify,
        )

    # ------------------------------------------------------------------ pipeline

    def _run(self, text: str, now: int, trace: Trace) -> VerifiedCredential:
        check_trust_fresh(self._trust, now)
        if text.startswith(PRESENTATION_PREFIX) and len(text) <= self._limits.max_text_chars:
            presentation = decode_presentation(text, self._limits)
            return self.presented(presentation, self._cose(presentation.credential, now, trace), now)
        data = qrtext.unpack(text, self._profile.prefix, self._limits)
        credential = self._cose(data, now, trace)
        require_presentation(credential, self._holder_binding)
        return credential

    def _cose(self, data: bytes, now: int, trace: Trace) -> VerifiedCredential:
        auth = open_sign1(data, self._trust, self._auth, self._limits, trace)
        return self.finish(auth.signer, auth.kid, auth.payload, now)[0]


__all__ = ["DEFAULT_LEEWAY_SECONDS", "Verifier", "check_trust_fresh"]
