"""The issuer side of status lists: index allocation, status changes and publication.

A verifier needs only :mod:`vcsdk.revocation` (the bit-list codec, Status List Tokens, the
checker). An issuer also allocates indices and records changes; that lives here, with two
stores behind one :class:`StatusStore` protocol:

* :class:`SQLStatusStore` -- the issuer database's own ``status_lists`` / ``status_entries``
  tables (SQLAlchemy Core: a SQLite file or PostgreSQL). The :class:`~vcsdk.registry.IssuerRegistry`
  runs it inside its transactions; ``vcsdk status ...`` runs it on a status-only database.
* :class:`MemoryStatusStore` -- in memory (tests, demos, ephemeral registries).

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
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..clock import Clock, system_clock
from ..codec.cwt import StatusReference
from ..errors import FileError, StatusEntryNotFound, StatusTransitionRefused, UsageError
from ..keys import Ed25519PrivateKey
from ..revocation.bitlist import ALLOWED_BITS, StatusList, StatusListBuilder
from ..revocation.token import DRAFT_20, ClaimKeys, sign_token
from ..verify.status import Status
from . import tables as t

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


# ------------------------------------------------------------------------------ stores


class SQLStatusStore:
    """A :class:`StatusStore` on the issuer database's ``status_lists`` and ``status_entries``.

    Given an ``Engine``, each method is one transaction of its own (on SQLite ``BEGIN IMMEDIATE``,
    so concurrent processes never hand out one index twice). Given a ``Connection``, the methods
    run inside the caller's transaction (the registry's: allocation, credential and audit entry
    commit together).
    """

    def __init__(self, bind: Engine | Connection, config: StatusConfig | None = None) -> None:
        self._bind = bind
        self._config = config

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        if isinstance(self._bind, Connection):
            yield self._bind
            return
        try:
            with self._bind.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise FileError(f"database error: {exc.__class__.__name__}: {exc}") from None

    def config(self) -> StatusConfig | None:
        if self._config is None:
            with self._conn() as conn:
                text = conn.execute(select(t.meta.c.value).where(t.meta.c.key == CONFIG_KEY)).scalar()
            self._config = None if text is None else StatusConfig.from_json(text)
        return self._config

    def initialise(self, config: StatusConfig, now: int) -> None:
        with self._conn() as conn:
            existing = conn.execute(select(t.meta.c.value).where(t.meta.c.key == CONFIG_KEY)).scalar()
            if existing is not None and StatusConfig.from_json(existing) != config:
                raise UsageError("the database is already initialised with another status configuration")
            if existing is None:
                conn.execute(insert(t.meta).values(key=CONFIG_KEY, value=config.to_json()))
        self._config = config

    def lists(self) -> list[ListInfo]:
        with self._conn() as conn:
            rows = conn.execute(select(t.status_lists).order_by(t.status_lists.c.seq)).mappings().all()
        return [ListInfo(r["seq"], r["uri"], r["bits"], r["size"], r["allocated"], r["created_at"]) for r in rows]

    @staticmethod
    def _insert(conn: Connection, table: Any) -> Any:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def add_list(self, seq: int, uri: str, bits: int, size: int, now: int) -> None:
        with self._conn() as conn:
            statement = self._insert(conn, t.status_lists).values(
                uri=uri, seq=seq, bits=bits, size=size, allocated=0, created_at=now
            )
            conn.execute(statement.on_conflict_do_nothing())

    def claim(self, uri: str, idx: int, now: int) -> bool:
        with self._conn() as conn:
            size = conn.execute(select(t.status_lists.c.size).where(t.status_lists.c.uri == uri)).scalar()
            if size is None or not 0 <= idx < size:
                return False
            statement = self._insert(conn, t.status_entries).values(
                uri=uri, idx=idx, status=0, allocated_at=now, updated_at=now
            )
            # RETURNING, not rowcount: drivers may report -1 for INSERT ... ON CONFLICT DO NOTHING.
            inserted = conn.execute(statement.on_conflict_do_nothing().returning(t.status_entries.c.idx)).first()
            if inserted is None:
                return False
            conn.execute(
                update(t.status_lists)
                .where(t.status_lists.c.uri == uri)
                .values(allocated=t.status_lists.c.allocated + 1)
            )
            return True

    def allocated(self, uri: str) -> set[int]:
        with self._conn() as conn:
            return set(conn.execute(select(t.status_entries.c.idx).where(t.status_entries.c.uri == uri)).scalars())

    def get(self, uri: str, idx: int) -> int | None:
        entry = t.status_entries.c
        with self._conn() as conn:
            value = conn.execute(select(entry.status).where(entry.uri == uri, entry.idx == idx)).scalar()
        return None if value is None else int(value)

    def transition(self, uri: str, idx: int, value: int, refuse_from: frozenset[int], now: int) -> int:
        entry = t.status_entries.c
        with self._conn() as conn:
            query = select(entry.status).where(entry.uri == uri, entry.idx == idx)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            old = conn.execute(query).scalar()
            if old is None:
                raise StatusEntryNotFound(f"no entry at {uri} index {idx}")
            if old in refuse_from and old != value:
                raise StatusTransitionRefused(f"{Status(old).name} is final: cannot become {Status(value).name}")
            conn.execute(
                update(t.status_entries).where(entry.uri == uri, entry.idx == idx).values(status=value, updated_at=now)
            )
            return int(old)

    def nonzero(self, uri: str) -> list[tuple[int, int]]:
        entry = t.status_entries.c
        with self._conn() as conn:
            rows = conn.execute(select(entry.idx, entry.status).where(entry.uri == uri, entry.status != 0)).all()
        return [(int(i), int(s)) for i, s in rows]


class MemoryStatusStore:
    """A :class:`StatusStore` in memory (tests, demos, ephemeral registries). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: StatusConfig | None = None
        self._lists: dict[str, ListInfo] = {}
        self._entries: dict[str, dict[int, int]] = {}

    def config(self) -> StatusConfig | None:
        return self._config

    def initialise(self, config: StatusConfig, now: int) -> None:
        with self._lock:
            if self._config is not None and self._config != config:
                raise UsageError("the store is already initialised with another configuration")
            self._config = config

    def lists(self) -> list[ListInfo]:
        with self._lock:
            return sorted(self._lists.values(), key=lambda i: i.seq)

    def add_list(self, seq: int, uri: str, bits: int, size: int, now: int) -> None:
        with self._lock:
            if uri not in self._lists and all(i.seq != seq for i in self._lists.values()):
                self._lists[uri] = ListInfo(seq, uri, bits, size, 0, now)
                self._entries[uri] = {}

    def claim(self, uri: str, idx: int, now: int) -> bool:
        with self._lock:
            entries = self._entries[uri]
            info = self._lists[uri]
            if idx in entries or not 0 <= idx < info.size:
                return False
            entries[idx] = Status.VALID.value
            self._lists[uri] = replace(info, allocated=info.allocated + 1)
            return True

    def allocated(self, uri: str) -> set[int]:
        with self._lock:
            return set(self._entries.get(uri, {}))

    def get(self, uri: str, idx: int) -> int | None:
        with self._lock:
            return self._entries.get(uri, {}).get(idx)

    def transition(self, uri: str, idx: int, value: int, refuse_from: frozenset[int], now: int) -> int:
        with self._lock:
            entries = self._entries.get(uri, {})
            if idx not in entries:
                raise StatusEntryNotFound(f"no entry at {uri} index {idx}")
            old = entries[idx]
            if old in refuse_from and old != value:
                raise StatusTransitionRefused(f"{Status(old).name} is final: cannot become {Status(value).name}")
            entries[idx] = value
            return old

    def nonzero(self, uri: str) -> list[tuple[int, int]]:
        with self._lock:
            return [(idx, value) for idx, value in self._entries.get(uri, {}).items() if value]


# ------------------------------------------------------------------------------ status database


def is_registry_database(engine: Engine) -> bool:
    """True when the database holds an issuer registry (an audit chain, applications or an
    issuer id): its status may change only through the registry, which audits every change."""
    try:
        with engine.connect() as conn:
            if conn.execute(select(t.meta.c.value).where(t.meta.c.key == "issuer_id")).first() is not None:
                return True
            if conn.execute(select(t.audit_head.c.id)).first() is not None:
                return True
            return conn.execute(select(t.applications.c.id).limit(1)).first() is not None
    except SQLAlchemyError:
        return False


def open_status_database(target: str, *, create: bool = False) -> SQLStatusStore:
    """A status-only database for ``vcsdk status ...`` (a SQLite path or a URL), in the issuer
    database's schema. An issuer registry database is refused: change its status through the
    registry (suspend, reinstate, revoke), so that the audit log records every change."""
    from .db import migrate, open_engine

    if "://" not in target and not create and not Path(target).exists():
        raise FileError(f"{target} does not exist: create it with 'vcsdk status create'")
    engine = open_engine(target)
    if is_registry_database(engine):
        raise UsageError(
            f"{target} is an issuer registry database: change its status with 'vcsdk registry "
            "suspend|reinstate|revoke' (audited) and publish with 'vcsdk registry export-status'"
        )
    if create:
        migrate(engine)
    return SQLStatusStore(engine)
