"""A gate: the offline verifier a turnstile or a guard's phone runs, provisioned by bundles.

It verifies through :class:`FastVerifier` (the gate path with its repeat-scan cache).

``Gate(anchors).load(bundle_bytes)`` authenticates the bundle, its trust list and every Status
List Token in it, checks the bundle's policy against the gate's hard :class:`GateBounds` and the
rollback floors (highest version seen per anchor, persisted when ``state`` names a directory, so
a restarted gate still refuses an older bundle), builds a complete verifier, and only then swaps
it in (one reference assignment): a bundle that fails any check raises and leaves the last good
one in force. Expiry of the bundle and its trust list is checked on every verification.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..clock import Clock, system_clock
from ..codec import cose
from ..errors import UsageError, VCError
from ..holder.binding import HolderBinding
from ..holder.challenge import Challenge
from ..keys import PublicKey
from ..limits import DEFAULT_LIMITS, Limits
from ..profiles.base import OFFICIAL_ID, Profile
from ..revocation.checker import Freshness, StatusListChecker
from ..trust.bundle import DEFAULT_BOUNDS, GateBounds, GateBundle, open_bundle, record_floors
from ..trust.floors import VersionFloors
from ..trust.store import TrustedKey
from ..verify import FastVerifier, StatusPolicy, Verification, VerifiedCredential, Verifier
from ..verify.presentation import PresentationGuard


class Gate:
    """Verifies credentials offline with whatever the last good bundle provisioned.

    ``anchors`` are the pinned trust-anchor keys (a :class:`TrustedKey` keeps its window and
    state). ``state`` is a directory for the rollback floors (None: in memory only).
    """

    def __init__(
        self,
        anchors: Iterable[PublicKey | TrustedKey],
        *,
        profile: Profile = OFFICIAL_ID,
        clock: Clock = system_clock,
        limits: Limits = DEFAULT_LIMITS,
        bounds: GateBounds = DEFAULT_BOUNDS,
        state: str | os.PathLike[str] | VersionFloors | None = None,
        holder_binding: HolderBinding | str = HolderBinding.OFF,
        presentations: PresentationGuard | None = None,
    ) -> None:
        """``holder_binding`` is the gate's own floor: the bundle's policy applies unless this is
        stricter. ``presentations`` (challenge book and replay cache) outlives bundle swaps."""
        self._anchors = tuple(anchors)
        self._holder_binding = HolderBinding.parse(holder_binding)
        self._guard = PresentationGuard() if presentations is None else presentations
        if not self._anchors:
            raise UsageError("a gate pins at least one trust-anchor public key")
        self._profile = profile
        self._clock = clock
        self._limits = limits
        self._bounds = bounds
        self._floors = state if isinstance(state, VersionFloors) else VersionFloors(state)
        self._state: tuple[GateBundle, FastVerifier] | None = None

    @property
    def bundle(self) -> GateBundle | None:
        """The bundle in force, None before the first successful load."""
        return None if self._state is None else self._state[0]

    @property
    def clock(self) -> Clock:
        """The clock the gate reads."""
        return self._clock

    @property
    def floors(self) -> VersionFloors:
        """The rollback floors (highest version seen per anchor)."""
        return self._floors

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
            bounds=self._bounds,
            floors=self._floors,
        )
        policy = bundle.policy
        store = bundle.store()
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
                holder_binding=policy.holder_binding.tighten(self._holder_binding),
                presentations=self._guard,
            )
        )  # a new bundle brings a new verifier, and with it an empty repeat-scan cache
        record_floors(bundle, self._floors, data)
        self._state = (bundle, verifier)  # the swap: one assignment
        return bundle

    @property
    def presentations(self) -> PresentationGuard:
        """The gate's challenge book and replay cache (kept across bundles)."""
        return self._guard

    def challenge(self) -> Challenge:
        """A fresh challenge to show as a ``GIDC1:`` QR (the guard needs a ``gate_id``)."""
        return self._guard.challenge(self._clock())

    def _verifier(self) -> FastVerifier:
        if self._state is None:
            raise UsageError("no bundle loaded: call Gate.load first")
        return self._state[1]

    def verify(self, text: str | bytes) -> VerifiedCredential:
        """Verify at the clock's time; raise the failure's :class:`VCError`."""
        return self._verifier().verify_at(text, self._clock())

    def verify_at(self, text: str | bytes, now: int) -> VerifiedCredential:
        """Verify as of ``now`` (the bundle's and trust list's expiry included)."""
        return self._verifier().verify_at(text, now)

    def check(self, text: str | bytes, now: int | None = None) -> Verification[VerifiedCredential]:
        """Like :meth:`verify` but returns a :class:`Verification` (misuse still raises)."""
        return self._verifier().check(text, self._clock() if now is None else now)

    def check_many(
        self, texts: Iterable[str | bytes], now: int | None = None
    ) -> list[Verification[VerifiedCredential]]:
        """:meth:`check` over many texts at one time."""
        return self._verifier().check_many(texts, self._clock() if now is None else now)


def document_type(data: bytes) -> str | None:
    """The protected ``typ`` of an anchor-signed document, or None if it is not one."""
    try:
        typ = cose.decode_sign1(data, DEFAULT_LIMITS).protected.get(cose.HEADER_TYP)
    except VCError:
        return None
    return typ if isinstance(typ, str) else None


__all__ = ["Gate", "document_type"]
