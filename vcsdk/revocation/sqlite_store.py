"""A :class:`~vcsdk.revocation.registry.StatusStore` in a SQLite file (a shell: file I/O).

WAL mode, ``synchronous=FULL`` and one ``BEGIN IMMEDIATE`` transaction per change: a crash
leaves every allocation and status change either fully recorded or not at all, and several
processes may allocate at once without ever handing out the same index twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import FileError, StatusEntryNotFound, StatusTransitionRefused, UsageError
from ..verify.status import Status
from .registry import ListInfo, RegistryConfig

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS status_lists (
    uri TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    bits INTEGER NOT NULL,
    size INTEGER NOT NULL,
    allocated INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS status_entries (
    uri TEXT NOT NULL REFERENCES status_lists(uri),
    idx INTEGER NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    allocated_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (uri, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS status_entries_not_valid ON status_entries(uri, idx, status) WHERE status != 0;
"""


class SQLiteStatusStore:
    """Status registry state in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._write():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
        except sqlite3.Error as exc:
            raise FileError(f"cannot open status store {self.path}: {exc}") from None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite failures surface as :class:`FileError`."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise FileError(f"status store {self.path}: {exc}") from None
        try:
            yield self._db
        except BaseException as exc:
            self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise FileError(f"status store {self.path}: {exc}") from None
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise FileError(f"status store {self.path}: {exc}") from None

    def config(self) -> RegistryConfig | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        if row is None:
            return None
        return RegistryConfig(**json.loads(row[0]))

    def initialise(self, config: RegistryConfig, now: int) -> None:
        text = json.dumps(
            {"uri_template": config.uri_template, "bits": config.bits, "size": config.size, "first": config.first}
        )
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
            if row is not None and RegistryConfig(**json.loads(row[0])) != config:
                raise UsageError(f"{self.path} is already initialised with another configuration")
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('config', ?)", (text,))

    def lists(self) -> list[ListInfo]:
        rows = self._db.execute(
            "SELECT seq, uri, bits, size, allocated, created_at FROM status_lists ORDER BY seq"
        ).fetchall()
        return [ListInfo(*row) for row in rows]

    def add_list(self, seq: int, uri: str, bits: int, size: int, now: int) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO status_lists(uri, seq, bits, size, created_at) VALUES (?, ?, ?, ?, ?)",
                (uri, seq, bits, size, now),
            )

    def claim(self, uri: str, idx: int, now: int) -> bool:
        with self._write() as db:
            size = db.execute("SELECT size FROM status_lists WHERE uri = ?", (uri,)).fetchone()
            if size is None or not 0 <= idx < size[0]:
                return False
            taken = db.execute(
                "INSERT OR IGNORE INTO status_entries(uri, idx, status, allocated_at, updated_at) "
                "VALUES (?, ?, 0, ?, ?)",
                (uri, idx, now, now),
            ).rowcount
            if taken:
                db.execute("UPDATE status_lists SET allocated = allocated + 1 WHERE uri = ?", (uri,))
            return bool(taken)

    def allocated(self, uri: str) -> set[int]:
        return {row[0] for row in self._db.execute("SELECT idx FROM status_entries WHERE uri = ?", (uri,))}

    def get(self, uri: str, idx: int) -> int | None:
        row = self._db.execute("SELECT status FROM status_entries WHERE uri = ? AND idx = ?", (uri, idx)).fetchone()
        return None if row is None else int(row[0])

    def transition(self, uri: str, idx: int, value: int, refuse_from: frozenset[int], now: int) -> int:
        with self._write() as db:
            row = db.execute("SELECT status FROM status_entries WHERE uri = ? AND idx = ?", (uri, idx)).fetchone()
            if row is None:
                raise StatusEntryNotFound(f"no entry at {uri} index {idx}")
            old = int(row[0])
            if old in refuse_from and old != value:
                raise StatusTransitionRefused(f"{Status(old).name} is final: cannot become {Status(value).name}")
            db.execute(
                "UPDATE status_entries SET status = ?, updated_at = ? WHERE uri = ? AND idx = ?", (value, now, uri, idx)
            )
            return old

    def nonzero(self, uri: str) -> list[tuple[int, int]]:
        rows = self._db.execute("SELECT idx, status FROM status_entries WHERE uri = ? AND status != 0", (uri,))
        return [(int(i), int(s)) for i, s in rows]
