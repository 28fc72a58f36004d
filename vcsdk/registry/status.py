"""The issuer side of status lists: index allocation, status changes and publication.

A verifier needs only :mod:`vcsdk.revocation` (the bit-list codec, Status List Tokens, the
checker). An issuer also allocates indices and records changes; that lives here, with two
stores behind one :class:`StatusStore` protocol:

* :class:`~vcsdk.registry.stores.SQLStatusStore` -- the issuer database's own ``status_lists`` /
  ``status_entries`` tables (SQLAlchemy Core: a SQLite file or PostgreSQL). The
  :class:`~vcsdk.registry.IssuerRegistry` runs it inside its transactions; ``vcsdk status ...``
  runs it on a status-only database.
* :class:`~vcsdk.registry.stores.MemoryStatusStore` -- in memory (tests, demos, ephemeral use).

Rules (:class:`StatusAllocator`):

* Herd privacy: lists hold at least 131,072 entries; indices are drawn uniformly at random from
  the free ones (``secrets`` by default, an injectable ``random.Random`` for reproducible runs),
  never reused, and a new list opens when one fills.
* Transitions: any value may move to any other, except that REVOKED is final.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ..clock import Clock, system_clock
from ..codec.cwt import StatusReference
from ..errors import StatusEntryNotFound, UsageError
from ..keys import Ed25519PrivateKey
from ..revocation.bitlist import ALLOWED_BITS, StatusList, StatusListBuilder
from ..revocation.token import DRAFT_20, ClaimKeys, sign_token
from ..verify.status import Status

MIN_LIST_SIZE = 131_072
DEFAULT_BITS = 2
DEFAULT_TTL_SECONDS = 12 * 3600
DEFAULT_TOKEN_VALIDITY_SECONDS = 7 * 24 * 3600
_SPARSE_FRACTION = 64  # below 1/64 free, sample from the explicit free set instead of probing
CONFIG_KEY = "status_config"


@dataclass(frozen=True, slots=True)
class StatusConfig:
    """How new lists are made: ``uri_template`` holds ``{n}``, the list's sequence number."""

    uri_template: str
    bits: int = DEFAULT_BITS
    size: int = MIN_LIST_SIZE
    first: int = 1

    def __post_init__(self) -> None:
        if "{n}" not in self.uri_template:
            raise UsageError("uri_template must contain {n} (the list number)")
        if self.bits not in ALLOWED_BITS or self.bits < 2:
            raise UsageError("official-ID lists need 2, 4 or 8 bits (SUSPENDED and NEEDS_RENEWAL)")
        if type(self.size) is not int or self.size < MIN_LIST_SIZE or self.size * self.bits % 8:
            raise UsageError(f"a list holds at least {MIN_LIST_SIZE} entries (herd privacy), in whole bytes")

    def uri(self, n: int) -> str:
        """The URI of list number ``n``."""
        return self.uri_template.replace("{n}", str(n))

    def to_json(self) -> str:
        """The stored form (JSON object)."""
        return json.dumps(
            {"uri_template": self.uri_template, "bits": self.bits, "size": self.size, "first": self.first}
        )

    @classmethod
    def from_json(cls, text: str) -> StatusConfig:
        """Read the stored form."""
        return cls(**json.loads(text))


RegistryConfig = StatusConfig
"""The former name of :class:`StatusConfig` (kept so existing callers work)."""


@dataclass(frozen=True, slots=True)
class ListInfo:
    """One status list as the store knows it."""

    seq: int
    uri: str
    bits: int
    size: int
    allocated: int
    created_at: int


class StatusStore(Protocol):
    """Durable state of a status allocator. Each method is atomic on its own."""

    def config(self) -> StatusConfig | None:
        """The configuration, None before :meth:`initialise`."""

    def initialise(self, config: StatusConfig, now: int) -> None:
        """Store the configuration (once; a different one is refused)."""

    def lists(self) -> list[ListInfo]:
        """Every list, by sequence number."""

    def add_list(self, seq: int, uri: str, bits: int, size: int, now: int) -> None:
        """Create a list; does nothing when ``seq`` exists already (concurrent openers)."""

    def claim(self, uri: str, idx: int, now: int) -> bool:
        """Allocate ``idx`` (status VALID) unless already taken; True when this call took it."""

    def allocated(self, uri: str) -> set[int]:
        """Every allocated index of a list."""

    def get(self, uri: str, idx: int) -> int | None:
        """The status at an allocated index, None when not allocated."""

    def transition(self, uri: str, idx: int, value: int, refuse_from: frozenset[int], now: int) -> int:
        """Set the status unless the current one is in ``refuse_from``; return the old value.

        Raises :class:`StatusEntryNotFound` or :class:`StatusTransitionRefused`.
        """

    def nonzero(self, uri: str) -> Iterable[tuple[int, int]]:
        """``(idx, status)`` for every entry whose status is not VALID."""


class StatusAllocator:
    """Allocates status list indices and records status changes for one issuer."""

    def __init__(self, store: StatusStore, *, clock: Clock = system_clock, rng: random.Random | None = None) -> None:
        config = store.config()
        if config is None:
            raise UsageError("the status store is not initialised: create it first")
        self._store = store
        self._config = config
        self._clock = clock
        self._rng: random.Random = rng if rng is not None else secrets.SystemRandom()
        self._free: dict[str, list[int]] = {}  # free indices of nearly full lists (a cache)

    @classmethod
    def create(
        cls, store: StatusStore, config: StatusConfig, *, clock: Clock = system_clock, rng: random.Random | None = None
    ) -> StatusAllocator:
        """Initialise ``store`` with ``config`` and open the first list."""
        now = clock()
        store.initialise(config, now)
        store.add_list(config.first, config.uri(config.first), config.bits, config.size, now)
        return cls(store, clock=clock, rng=rng)

    @property
    def config(self) -> StatusConfig:
        """The configuration."""
        return self._config

    def lists(self) -> list[ListInfo]:
        """Every list with its allocation count."""
        return self._store.lists()

    def allocate(self) -> StatusReference:
        """A fresh index, uniformly random among the free ones of the open list.

        While the list is mostly free, a random index is drawn and claimed (a taken one is
        simply drawn again). Once fewer than 1/64 are free, the free indices are listed once
        and drawn from without replacement; a claim lost to another process just moves on.
        """
        while True:
            info = self._open_list()
            if (info.size - info.allocated) * _SPARSE_FRACTION >= info.size:
                idx = self._rng.randrange(info.size)
            else:
                free = self._free.get(info.uri)
                if not free:
                    taken = self._store.allocated(info.uri)
                    free = self._free[info.uri] = [i for i in range(info.size) if i not in taken]
                    if not free:
                        continue  # filled meanwhile: the next round opens a new list
                slot = self._rng.randrange(len(free))
                free[slot], free[-1] = free[-1], free[slot]
                idx = free.pop()
            if self._store.claim(info.uri, idx, self._clock()):
                return StatusReference(idx, info.uri)

    def _open_list(self) -> ListInfo:
        lists = self._store.lists()
        for info in lists:
            if info.allocated < info.size:
                return info
        seq = (lists[-1].seq + 1) if lists else self._config.first
        self._store.add_list(seq, self._config.uri(seq), self._config.bits, self._config.size, self._clock())
        return self._open_list()

    def status(self, reference: StatusReference) -> Status:
        """The current status of an allocated entry."""
        value = self._store.get(reference.uri, reference.idx)
        if value is None:
            raise StatusEntryNotFound(f"no entry at {reference.uri} index {reference.idx}")
        return Status(value)

    def set_status(self, reference: StatusReference, status: Status) -> Status:
        """Change an entry's status; return the previous one. REVOKED is final."""
        status = Status(status)
        refuse = frozenset() if status is Status.REVOKED else frozenset({Status.REVOKED.value})
        old = self._store.transition(reference.uri, reference.idx, status.value, refuse, self._clock())
        return Status(old)

    def revoke(self, reference: StatusReference) -> Status:
        """Revoke for good."""
        return self.set_status(reference, Status.REVOKED)

    def suspend(self, reference: StatusReference) -> Status:
        """Suspend (e.g. phone lost)."""
        return self.set_status(reference, Status.SUSPENDED)

    def reinstate(self, reference: StatusReference) -> Status:
        """Back to VALID (refused after REVOKED)."""
        return self.set_status(reference, Status.VALID)

    def require_renewal(self, reference: StatusReference) -> Status:
        """Mark NEEDS_RENEWAL (e.g. promotion or transfer)."""
        return self.set_status(reference, Status.NEEDS_RENEWAL)

    def snapshot(self, uri: str) -> StatusList:
        """The list's current content."""
        info = next((i for i in self._store.lists() if i.uri == uri), None)
        if info is None:
            raise StatusEntryNotFound(f"no status list {uri}")
        builder = StatusListBuilder(info.size, info.bits)
        builder.update(self._store.nonzero(uri))
        return builder.freeze()

    def publish(
        self,
        uri: str,
        key: Ed25519PrivateKey,
        *,
        ttl: int | None = DEFAULT_TTL_SECONDS,
        validity: int = DEFAULT_TOKEN_VALIDITY_SECONDS,
        claim_keys: ClaimKeys = DRAFT_20,
    ) -> bytes:
        """A signed Status List Token for ``uri`` as of now (raw tagged COSE_Sign1 bytes)."""
        now = self._clock()
        return sign_token(
            self.snapshot(uri), uri, key, issued_at=now, expires_at=now + validity, ttl=ttl, claim_keys=claim_keys
        )


StatusRegistry = StatusAllocator
"""The former name of :class:`StatusAllocator` (kept so existing callers work)."""
