"""Verifying presentations: the holder-binding steps after the inner credential verified.

Order (the first failing step decides the code), after the inner credential passed every step a
bare credential passes (status included):

1. ``cnf`` present in the credential -> ``HOLDER_KEY_MISSING``
2. the device signature verifies with that key -> ``DEVICE_SIGNATURE_INVALID``
3. presentation time within ``window`` seconds each way, plus leeway -> ``PRESENTATION_EXPIRED`` /
   ``PRESENTATION_NOT_YET_VALID``
4. challenge mode: the nonce is one this gate issued (still within its lifetime) and the gate id
   is this gate's -> ``CHALLENGE_MISMATCH``
5. not accepted before: neither this exact presentation nor another answer to the same nonce ->
   ``PRESENTATION_REPLAYED``

Steps 4 and 5 need memory: a :class:`PresentationGuard` per gate holds the outstanding nonces and
the replay cache, both bounded. A presentation is recorded only once every step passed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable

from .._slots import slot_constructor
from ..errors import (
    ChallengeMismatch,
    DeviceSignatureInvalid,
    HolderKeyMissing,
    PresentationExpired,
    PresentationNotYetValid,
    PresentationReplayed,
    PresentationRequired,
    SignatureInvalid,
    UsageError,
)
from ..holder.binding import HolderBinding
from ..holder.challenge import NONCE_BYTES, Challenge, check_gate_id
from ..holder.presentation import Presentation
from ..keys import ALG_EDDSA
from ..keys.base import PublicKey
from .result import PresentationInfo, VerifiedCredential

_presentation_info = slot_constructor(PresentationInfo)
"""``PresentationInfo(presented_at, challenged, gate_id)`` without the dataclass ``__init__``."""

DEFAULT_PRESENTATION_WINDOW = 30
"""Seconds a presentation stays fresh, each way (the verifier's leeway is added)."""
DEFAULT_REPLAY_CAPACITY = 65_536
DEFAULT_NONCE_CAPACITY = 1_024


def require_presentation(credential: VerifiedCredential, policy: HolderBinding) -> None:
    """Refuse a bare credential the policy wants presented (``PRESENTATION_REQUIRED``)."""
    if policy is HolderBinding.REQUIRED or (policy is HolderBinding.IF_BOUND and credential.holder_key is not None):
        what = "every credential" if credential.holder_key is None else "this device-bound credential"
        raise PresentationRequired(f"{what} must be shown as a fresh presentation from the phone, not bare")


class PresentationGuard:
    """A gate's memory for presentations: outstanding challenge nonces and a replay cache.

    ``gate_id`` names the gate in its challenges (None: this gate issues none, so every
    challenge-mode presentation is ``CHALLENGE_MISMATCH``); ``require_challenge`` refuses
    presentations that answer no challenge (``CHALLENGE_MISMATCH``). Both stores are bounded: the oldest
    entries go first; size ``replay_capacity`` above the presentations a gate accepts within
    twice the freshness window plus leeway. Thread-safe.
    """

    def __init__(
        self,
        gate_id: str | None = None,
        *,
        replay_capacity: int = DEFAULT_REPLAY_CAPACITY,
        nonce_capacity: int = DEFAULT_NONCE_CAPACITY,
        require_challenge: bool = False,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if gate_id is not None:
            check_gate_id(gate_id)
        for name, value in (("replay_capacity", replay_capacity), ("nonce_capacity", nonce_capacity)):
            if type(value) is not int or value < 1:
                raise UsageError(f"{name} must be a positive integer")
        if require_challenge and gate_id is None:
            raise UsageError("a gate that requires challenges needs a gate_id")
        self.gate_id = gate_id
        self.require_challenge = require_challenge
        self._replay_capacity = replay_capacity
        self._nonce_capacity = nonce_capacity
        self._random = random
        self._seen: OrderedDict[bytes, int] = OrderedDict()  # digest -> presented at (Unix seconds)
        self._nonces: OrderedDict[bytes, tuple[int, bool]] = OrderedDict()  # nonce -> (issued at, answered)
        self._lock = threading.Lock()
        self._changes = 0
        self._longest = 0  # the longest lifetime any check asked for: memory is never cut shorter

    def challenge(self, now: int) -> Challenge:
        """Make and remember a fresh challenge; show :meth:`Challenge.to_text` as a QR code."""
        if self.gate_id is None:
            raise UsageError("this guard has no gate_id, so it cannot issue challenges")
        challenge = Challenge(self._random(NONCE_BYTES), self.gate_id, now)
        with self._lock:
            self._nonces[challenge.nonce] = (now, False)
            while len(self._nonces) > self._nonce_capacity:
                self._nonces.popitem(last=False)
            self._changes += 1
        return challenge

    @property
    def changes(self) -> int:
        """A counter that grows with every challenge made and presentation recorded."""
        return self._changes

    @property
    def lifetime(self) -> int:
        """The longest memory (seconds) any check asked for so far; entries are kept that long."""
        return self._longest

    def export(self, now: int) -> tuple[list[tuple[bytes, int]], list[tuple[bytes, int, bool]]]:
        """The memory worth keeping across a restart: replay entries still remembered at ``now``
        as (digest, presented at), and the nonces as (nonce, issued at, answered), oldest first."""
        with self._lock:
            keep = now - self._longest
            seen = [(digest, when) for digest, when in self._seen.items() if when >= keep]
            nonces = [(nonce, issued, answered) for nonce, (issued, answered) in self._nonces.items()]
        return seen, nonces

    def absorb(
        self,
        seen: list[tuple[bytes, int]],
        nonces: list[tuple[bytes, int, bool]],
        now: int,
        lifetime: int = 0,
    ) -> None:
        """Add memory saved by :meth:`export` (of this gate: same ``gate_id``) and its
        :attr:`lifetime` before what this guard already holds; entries past their time are
        dropped, capacities still hold."""
        with self._lock:
            self._longest = max(self._longest, lifetime)
            keep = now - self._longest
            merged_seen: OrderedDict[bytes, int] = OrderedDict((digest, when) for digest, when in seen if when >= keep)
            for digest, when in self._seen.items():
                merged_seen[digest] = max(when, merged_seen.get(digest, when))
            while len(merged_seen) > self._replay_capacity:
                merged_seen.popitem(last=False)
            merged_nonces: OrderedDict[bytes, tuple[int, bool]] = OrderedDict()
            if self.gate_id is not None:  # a guard without a gate id never made (nor accepts) nonces
                merged_nonces.update((nonce, (issued, answered)) for nonce, issued, answered in nonces)
            for nonce, (issued, answered) in self._nonces.items():
                earlier = merged_nonces.get(nonce)
                merged_nonces[nonce] = (issued, answered or (earlier is not None and earlier[1]))
            while len(merged_nonces) > self._nonce_capacity:
                merged_nonces.popitem(last=False)
            self._seen, self._nonces = merged_seen, merged_nonces

    def outstanding(self) -> int:
        """Nonces issued and not yet answered (expired ones included until purged)."""
        with self._lock:
            return sum(1 for _, answered in self._nonces.values() if not answered)

    def check_and_record(self, presentation: Presentation, now: int, lifetime: int) -> None:
        """Steps 4 and 5; on success the presentation (and its nonce) count as used."""
        digest = hashlib.sha256(presentation.signature).digest()
        with self._lock:
            if lifetime > self._longest:
                self._longest = lifetime
            self._purge(now, self._longest)
            nonce = presentation.nonce
            entry = None if nonce is None else self._nonces.get(nonce)
            if nonce is None and self.require_challenge:
                raise ChallengeMismatch("this gate accepts only answers to its own challenge")
            if nonce is not None and (entry is None or presentation.gate_id != self.gate_id):
                raise ChallengeMismatch("the presentation answers no challenge of this gate, or names another gate")
            if digest in self._seen or (entry is not None and entry[1]):
                raise PresentationReplayed("this presentation (or an answer to this challenge) was already accepted")
            if nonce is not None and entry is not None:
                self._nonces[nonce] = (entry[0], True)
            self._seen[digest] = presentation.presented_at
            while len(self._seen) > self._replay_capacity:
                self._seen.popitem(last=False)
            self._changes += 1

    def _purge(self, now: int, lifetime: int) -> None:
        seen = self._seen
        while seen:
            digest, when = next(iter(seen.items()))
            if when + lifetime >= now:
                break
            del seen[digest]
        nonces = self._nonces  # in the order the gate made them: expired ones are at the front
        while nonces:
            nonce, (issued, _) = next(iter(nonces.items()))
            if issued + lifetime >= now:
                break
            del nonces[nonce]


def check_presentation(
    presentation: Presentation,
    credential: VerifiedCredential,
    *,
    now: int,
    window: int,
    leeway: int,
    guard: PresentationGuard,
    verify: Callable[[PublicKey, bytes, bytes], None] | None = None,
) -> VerifiedCredential:
    """Steps 1-5 for an inner credential that already verified; the result names the presentation.

    ``verify(key, message, signature)`` replaces ``key.verify`` (the compiled lane's libsodium check)."""
    key = credential.holder_key
    if key is None:
        raise HolderKeyMissing("the presented credential has no cnf device key: it cannot be presented")
    if key.alg != ALG_EDDSA:
        raise DeviceSignatureInvalid("the credential's device key is not an Ed25519 key (presentations use EdDSA)")
    try:
        if verify is None:
            key.verify(presentation.to_be_signed, presentation.signature)
        else:
            verify(key, presentation.to_be_signed, presentation.signature)
    except SignatureInvalid:
        raise DeviceSignatureInvalid("the presentation is not signed by the credential's device key") from None
    when = presentation.presented_at
    slack = window + leeway
    if when < now - slack:
        raise PresentationExpired(f"presented at {when}, more than {window}s (+{leeway}s leeway) before now ({now})")
    if when > now + slack:
        raise PresentationNotYetValid(f"presented at {when}, more than {window}s (+{leeway}s leeway) after now ({now})")
    guard.check_and_record(presentation, now, 2 * slack)
    info = _presentation_info(when, presentation.nonce is not None, presentation.gate_id)
    return credential.with_presentation(info)


__all__ = [
    "DEFAULT_PRESENTATION_WINDOW",
    "HolderBinding",
    "PresentationGuard",
    "check_presentation",
    "require_presentation",
]
