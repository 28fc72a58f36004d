"""The registry's plumbing: opening and creating the database, transactions, row access,
actor roles, and the audit append shared by the workflow, lifecycle and view mixins."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..clock import Clock, system_clock
from ..codec.cwt import StatusReference
from ..errors import ActorNotAuthorized, FileError, RecordNotFound, UsageError
from ..keys import Ed25519PrivateKey
from . import audit
from . import tables as t
from .db import migrate, open_engine
from .status import CONFIG_KEY, StatusAllocator, StatusConfig
from .stores import SQLStatusStore
from .workflow import next_state

ACTIVE_STATES = ("issued", "suspended", "needs_renewal")
SignerSource = Callable[[int], Ed25519PrivateKey]
ACTORS_KEY = "actors"
ROLES = ("reviewer", "operator")
R = TypeVar("R", bound="RegistryBase")


@dataclass(frozen=True, slots=True)
class IssuedRecord:
    """A credential the registry issued. ``qr_text`` is handed out once and never stored."""

    cti: str
    application_id: str
    qr_text: str
    status: StatusReference
    expires_at: int


class RegistryBase:
    """Shared state and plumbing of :class:`~vcsdk.registry.IssuerRegistry`."""

    def __init__(
        self,
        engine: Engine,
        *,
        issuer_id: str | None = None,
        signer: SignerSource | None = None,
        clock: Clock = system_clock,
        fees: Mapping[int, int] | None = None,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._clock = clock
        self._fees: Mapping[int, int] = fees if fees is not None else {}  # may be a live view
        try:
            with self._engine.connect() as conn:
                rows = dict(conn.execute(select(t.meta.c.key, t.meta.c.value)).all())
                has_head = conn.execute(select(t.audit_head.c.id)).first() is not None
        except SQLAlchemyError:
            rows, has_head = {}, False
        if CONFIG_KEY not in rows:
            raise UsageError("the database is not initialised: run 'vcsdk registry init'")
        if not has_head and "issuer_id" not in rows:
            raise UsageError("this is a status-only database, not an issuer registry")
        self._status_config = StatusConfig.from_json(rows[CONFIG_KEY])
        self._issuer_id = issuer_id or rows.get("issuer_id", "")
        if not self._issuer_id:
            raise UsageError("no issuer id: give issuer_id")
        actors = json.loads(rows[ACTORS_KEY]) if ACTORS_KEY in rows else {}
        self._actors: dict[str, frozenset[str]] = {role: frozenset(actors.get(role + "s", ())) for role in ROLES}

    @classmethod
    def open(cls: type[R], target: str, **kwargs: Any) -> R:
        """Open an initialised database (a SQLite path or a URL)."""
        if "://" not in target and not Path(target).exists():
            raise FileError(f"{target} does not exist: create it with 'vcsdk registry init'")
        return cls(open_engine(target), **kwargs)

    @classmethod
    def create(
        cls: type[R],
        target: str,
        status_config: StatusConfig,
        *,
        reviewers: Sequence[str] = (),
        operators: Sequence[str] = (),
        **kwargs: Any,
    ) -> R:
        """Create (or migrate) the database and record the status-list configuration.

        ``reviewers`` / ``operators``: the accounts allowed to review applications and to issue
        and change credentials. When both are empty no role is checked (the caller vouches for
        its actors); the CLI always configures them.
        """
        engine = open_engine(target)
        migrate(engine)
        store_config = status_config.to_json()
        try:
            with engine.begin() as conn:
                existing = conn.execute(select(t.meta.c.value).where(t.meta.c.key == CONFIG_KEY)).scalar()
                if existing is not None and json.loads(existing) != json.loads(store_config):
                    raise UsageError("the database is already initialised with another status configuration")
                if existing is None:
                    conn.execute(insert(t.meta).values(key=CONFIG_KEY, value=store_config))
                    if kwargs.get("issuer_id"):
                        conn.execute(insert(t.meta).values(key="issuer_id", value=kwargs["issuer_id"]))
                    conn.execute(insert(t.audit_head).values(id=1, seq=0, hash=audit.GENESIS))
                    if reviewers or operators:
                        actors = {"reviewers": sorted(set(reviewers)), "operators": sorted(set(operators))}
                        conn.execute(insert(t.meta).values(key=ACTORS_KEY, value=json.dumps(actors)))
                        audit.append(conn, kwargs.get("clock", system_clock)(), "setup", "actors", "registry", actors)
        except SQLAlchemyError as exc:
            raise FileError(f"database error: {exc.__class__.__name__}: {exc}") from None
        return cls(engine, **kwargs)

    @property
    def issuer_id(self) -> str:
        """The issuing authority id (``iss`` of every credential)."""
        return self._issuer_id

    def set_actors(self, *, reviewers: Sequence[str], operators: Sequence[str], actor: str) -> None:
        """Replace the reviewer and operator lists (an operator's change, audited)."""
        if not reviewers or not operators:
            raise UsageError("give at least one reviewer and one operator")
        actors = {"reviewers": sorted(set(reviewers)), "operators": sorted(set(operators))}
        with self._tx() as conn:
            self._require(conn, "operator", actor)
            conn.execute(t.meta.delete().where(t.meta.c.key == ACTORS_KEY))
            conn.execute(insert(t.meta).values(key=ACTORS_KEY, value=json.dumps(actors)))
            self._audit(conn, actor, "actors", "registry", actors)
        self._actors = {role: frozenset(actors[role + "s"]) for role in ROLES}

    def actors(self) -> dict[str, list[str]]:
        """The configured reviewers and operators (empty lists: roles are not checked)."""
        return {role + "s": sorted(names) for role, names in self._actors.items()}

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise FileError(f"database error: {exc.__class__.__name__}: {exc}") from None

    def _require(self, conn: Connection, role: str, actor: str) -> None:
        """Refuse an actor not on the configured list for ``role`` (read in the transaction)."""
        text = conn.execute(select(t.meta.c.value).where(t.meta.c.key == ACTORS_KEY)).scalar()
        configured = json.loads(text) if text else {}
        if not any(configured.values()):
            return
        if actor not in configured.get(role + "s", ()):
            raise ActorNotAuthorized(f"{actor!r} is not a configured {role} of this registry")

    def _audit(self, conn: Connection, actor: str, action: str, subject: str, data: Mapping[str, Any]) -> None:
        audit.append(conn, self._clock(), actor, action, subject, data)

    def _application(self, conn: Connection, application_id: str, *, lock: bool = True) -> dict[str, Any]:
        query = select(t.applications).where(t.applications.c.id == application_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            raise RecordNotFound(f"no application {application_id}")
        return dict(row)

    def _credential(self, conn: Connection, cti: str, *, lock: bool = True) -> dict[str, Any]:
        query = select(t.credentials).where(t.credentials.c.cti == cti)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            raise RecordNotFound(f"no credential {cti}")
        return dict(row)

    def _step(self, conn: Connection, application_id: str, action: str, actor: str, **values: Any) -> str:
        row = self._application(conn, application_id)
        state = next_state(row["state"], action)
        conn.execute(update(t.applications).where(t.applications.c.id == application_id).values(state=state, **values))
        self._audit(conn, actor, action, application_id, {"from": row["state"], "to": state, **values})
        return state

    def _status(self, conn: Connection) -> StatusAllocator:
        return StatusAllocator(SQLStatusStore(conn, self._status_config), clock=self._clock)
