"""A gate: the offline verifier a turnstile or a guard's phone runs, provisioned by bundles.

It verifies through :class:`FastVerifier` (the gate path with its repeat-scan cache).

``Gate(anchors).load(bundle_bytes)`` authenticates the bundle, its trust list and every Status
List Token in it, builds a complete verifier, and only then swaps it in (one reference
assignment): a bundle that fails any check raises and leaves the last good one in force.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..clock import Clock, system_clock
from ..codec import cose
from ..errors import TrustListExpired, UsageError, VCError
from ..keys import PublicKey
from ..limits import DEFAULT_LIMITS, Limits
from ..profiles.base import OFFICIAL_ID, Profile
from ..revocation.checker import Freshness, StatusListChecker
from ..trust.bundle import GateBundle, open_bundle
from ..verify import FastVerifier, StatusPolicy, Verification, VerifiedCredential, Verifier


class Gate:
    """Verifies credentials offline with whatever the last good bundle provisioned."""

    def __init__(
        self,
        anchors: Iterable[PublicKey],
        *,
        profile: Profile = OFFICIAL_ID,
        clock: Clock = system_clock,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._anchors = tuple(anchors)
        if not self._anchors:
            raise UsageError("a gate pins at least one trust-anchor public key")
        self._profile = profile
        self._clock = clock
        self._limits = limits
        self._state: tuple[GateBundle, FastVerifier, int] | None = None

    @property
    def bundle(self) -> GateBundle | None:
        """The bundle in force, None before the first successful load."""
        return None if self._state is None else self._state[0]

    def load(self, data: bytes) -> GateBundle:
        """Verify ``data`` completely, then make it the bundle in force (atomically)."""
        now = self._clock()
        held = self._state[0] if self._state else None
        bundle = open_bundle(
            data,
            self._anchors,
            now=now,
            min_version=None if held is None else held.version,
            min_trust_list_version=None if held is None else held.trust_list.version,
            limits=self._limits,
        )
        policy = bundle.policy
        store = bundle.trust_list.store()
        checker = StatusListChecker(
            store,
            freshness=Freshness(max_age=policy.max_status_age, honour_ttl=policy.honour_ttl, leeway=policy.leeway),
            limits=self._limits,
        )
        for token in bundle.status_tokens:
            checker.load(token, now)
        verifier = FastVerifier(
            Verifier(
                store,
                profile=self._profile,
                clock=self._clock,
                leeway=policy.leeway,
                limits=self._limits,
                status=checker,
                status_policy=StatusPolicy.FAIL_CLOSED if policy.fail_closed else StatusPolicy.ALLOW_UNKNOWN,
            )
        )  # a new bundle brings a new verifier, and with it an empty repeat-scan cache
        valid_until = min(bundle.expires_at, bundle.trust_list.expires_at)
        self._state = (bundle, verifier, valid_until)  # the swap: one assignment
        return bundle

    def _verifier(self, now: int) -> FastVerifier:
        if self._state is None:
            raise UsageError("no bundle loaded: call Gate.load first")
        bundle, verifier, valid_until = self._state
        if now >= valid_until:
            raise TrustListExpired(f"the gate's bundle v{bundle.version} or its trust list expired at {valid_until}")
        return verifier

    def verify(self, text: str | bytes) -> VerifiedCredential:
        """Verify at the clock's time; raise the failure's :class:`VCError`."""
        now = self._clock()
        return self._verifier(now).verify_at(text, now)

    def check(self, text: str | bytes) -> Verification:
        """Like :meth:`verify` but returns a :class:`Verification` (misuse still raises)."""
        now = self._clock()
        try:
            verifier = self._verifier(now)
        except TrustListExpired as exc:
            return Verification(False, exc.code, exc.message)
        return verifier.check(text, now)


def document_type(data: bytes) -> str | None:
    """The protected ``typ`` of an anchor-signed document, or None if it is not one."""
    try:
        typ = cose.decode_sign1(data, DEFAULT_LIMITS).protected.get(cose.HEADER_TYP)
    except VCError:
        return None
    return typ if isinstance(typ, str) else None
