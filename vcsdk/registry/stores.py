"""The two :class:`~vcsdk.registry.status.StatusStore` implementations, and the status-only
database that ``vcsdk status ...`` uses (the issuer database's schema, refused when it holds a
registry)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..errors import FileError, StatusEntryNotFound, StatusTransitionRefused, UsageError
from ..verify.status import Status
from . import tables as t
from .status import CONFIG_KEY, ListInfo, StatusConfig


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
