"""The issuer registry: application -> review -> issuance -> lifecycle, in one database.

Every public method is one database transaction: the state change, the status-list entry and
the audit entry commit together or not at all. The audit log is hash-chained; appenders are
serialised through the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL, the
immediate write lock on SQLite), so concurrent processes extend one unbroken chain.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..clock import Clock, system_clock
from ..codec.cwt import StatusReference
from ..errors import (
    ActiveCredentialExists,
    ApplicationIncomplete,
    FileError,
    RecordNotFound,
    RegistryTransitionRefused,
    ReviewerConflict,
    StatusEntryNotFound,
    StatusTransitionRefused,
    UsageError,
)
from ..issue import Issuer
from ..keys import Ed25519PrivateKey, Ed25519PublicKey
from ..revocation.bitlist import StatusListBuilder
from ..revocation.registry import ListInfo, RegistryConfig, StatusRegistry
from ..revocation.token import sign_token
from ..verify.status import Status
from . import tables as t
from .db import migrate, open_engine
from .workflow import (
    DEFAULT_FEE_KRW,
    DOCUMENT_KINDS,
    GENESIS,
    Document,
    completeness,
    entry_hash,
    first_broken,
    next_state,
    photo_problems,
    sla_report,
)

ACTIVE_STATES = ("issued", "suspended", "needs_renewal")
SignerSource = Callable[[int], Ed25519PrivateKey]


@dataclass(frozen=True, slots=True)
class IssuedRecord:
    """A credential the registry issued."""

    cti: str
    application_id: str
    qr_text: str
    status: StatusReference
    expires_at: int


class _ConnStore:
    """The revocation ``StatusStore`` protocol on the registry's own connection and transaction."""

    def __init__(self, conn: Connection, config: RegistryConfig) -> None:
        self.conn = conn
        self._config = config

    def config(self) -> RegistryConfig | None:
        return self._config

    def initialise(self, config: RegistryConfig, now: int) -> None:
        raise UsageError("initialise the registry through IssuerRegistry.create")

    def lists(self) -> list[ListInfo]:
        rows = self.conn.execute(select(t.status_lists).order_by(t.status_lists.c.seq)).mappings()
        return [ListInfo(r["seq"], r["uri"], r["bits"], r["size"], r["allocated"], r["created_at"]) for r in rows]

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def add_list(self, seq: int, uri: str, bits: int, size: int, now: int) -> None:
        statement = self._insert(t.status_lists).values(
            uri=uri, seq=seq, bits=bits, size=size, allocated=0, created_at=now
        )
        self.conn.execute(statement.on_conflict_do_nothing())

    def claim(self, uri: str, idx: int, now: int) -> bool:
        statement = self._insert(t.status_entries).values(uri=uri, idx=idx, status=0, allocated_at=now, updated_at=now)
        # RETURNING, not rowcount: drivers may report -1 for INSERT ... ON CONFLICT DO NOTHING.
        inserted = self.conn.execute(statement.on_conflict_do_nothing().returning(t.status_entries.c.idx)).first()
        taken = inserted is not None
        if taken:
            self.conn.execute(
                update(t.status_lists)
                .where(t.status_lists.c.uri == uri)
                .values(allocated=t.status_lists.c.allocated + 1)
            )
        return taken

    def allocated(self, uri: str) -> set[int]:
        return set(self.conn.execute(select(t.status_entries.c.idx).where(t.status_entries.c.uri == uri)).scalars())

    def get(self, uri: str, idx: int) -> int | None:
        query = select(t.status_entries.c.status).where(t.status_entries.c.uri == uri, t.status_entries.c.idx == idx)
        value = self.conn.execute(query).scalar()
        return None if value is None else int(value)

    def transition(self, uri: str, idx: int, value: int, refuse_from: frozenset[int], now: int) -> int:
        entry = t.status_entries.c
        query = select(entry.status).where(entry.uri == uri, entry.idx == idx)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        old = self.conn.execute(query).scalar()
        if old is None:
            raise StatusEntryNotFound(f"no entry at {uri} index {idx}")
        if old in refuse_from and old != value:
            raise StatusTransitionRefused(f"{Status(old).name} is final: cannot become {Status(value).name}")
        self.conn.execute(
            update(t.status_entries).where(entry.uri == uri, entry.idx == idx).values(status=value, updated_at=now)
        )
        return int(old)

    def nonzero(self, uri: str) -> list[tuple[int, int]]:
        entry = t.status_entries.c
        rows = self.conn.execute(select(entry.idx, entry.status).where(entry.uri == uri, entry.status != 0))
        return [(int(i), int(s)) for i, s in rows]


class IssuerRegistry:
    """An agency's ID office: applications, reviews, credentials and their status, audited."""

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
        self._fees = dict(fees or {})
        try:
            with self._engine.connect() as conn:
                rows = dict(conn.execute(select(t.meta.c.key, t.meta.c.value)).all())
        except SQLAlchemyError:
            rows = {}
        if "status_config" not in rows:
            raise UsageError("the database is not initialised: run 'vcsdk registry init'")
        self._status_config = RegistryConfig(**json.loads(rows["status_config"]))
        self._issuer_id = issuer_id or rows.get("issuer_id", "")
        if not self._issuer_id:
            raise UsageError("no issuer id: give issuer_id")

    @classmethod
    def open(cls, target: str, **kwargs: Any) -> IssuerRegistry:
        """Open an initialised database (a SQLite path or a URL)."""
        return cls(open_engine(target), **kwargs)

    @classmethod
    def create(cls, target: str, status_config: RegistryConfig, **kwargs: Any) -> IssuerRegistry:
        """Create (or migrate) the database and record the status-list configuration."""
        engine = open_engine(target)
        migrate(engine)
        text = json.dumps(
            {
                "uri_template": status_config.uri_template,
                "bits": status_config.bits,
                "size": status_config.size,
                "first": status_config.first,
            }
        )
        with engine.begin() as conn:
            existing = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "status_config")).scalar()
            if existing is not None and json.loads(existing) != json.loads(text):
                raise UsageError("the database is already initialised with another status configuration")
            if existing is None:
                conn.execute(insert(t.meta).values(key="status_config", value=text))
                if kwargs.get("issuer_id"):
                    conn.execute(insert(t.meta).values(key="issuer_id", value=kwargs["issuer_id"]))
                conn.execute(insert(t.audit_head).values(id=1, seq=0, hash=GENESIS))
        return cls(engine, **kwargs)

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise FileError(f"database error: {exc.__class__.__name__}: {exc}") from None

    def _audit(self, conn: Connection, actor: str, action: str, subject: str, data: Mapping[str, Any]) -> None:
        head_query = select(t.audit_head).where(t.audit_head.c.id == 1)
        if conn.dialect.name == "postgresql":
            head_query = head_query.with_for_update()
        head = conn.execute(head_query).mappings().one()
        seq, at = int(head["seq"]) + 1, self._clock()
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
        digest = entry_hash(head["hash"], seq, at, actor, action, subject, text)
        conn.execute(
            insert(t.audit_log).values(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                data=text,
                prev_hash=head["hash"],
                hash=digest,
            )
        )
        conn.execute(update(t.audit_head).where(t.audit_head.c.id == 1).values(seq=seq, hash=digest))

    def _application(self, conn: Connection, application_id: str, *, lock: bool = True) -> Mapping[str, Any]:
        query = select(t.applications).where(t.applications.c.id == application_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            raise RecordNotFound(f"no application {application_id}")
        return dict(row)

    def _credential(self, conn: Connection, cti: str) -> Mapping[str, Any]:
        query = select(t.credentials).where(t.credentials.c.cti == cti)
        if conn.dialect.name == "postgresql":
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

    def _status(self, conn: Connection) -> StatusRegistry:
        return StatusRegistry(_ConnStore(conn, self._status_config), clock=self._clock)

    # ------------------------------------------------------------------ applications

    def apply(
        self,
        *,
        applicant: str,
        claims: Mapping[str, Any],
        contact: str,
        device_key: Ed25519PublicKey | None = None,
    ) -> str:
        """Open an application (state draft); returns its id. ``claims``: official-ID JSON form
        without ``photo_digest`` (it comes from the photo document)."""
        from ..profiles.official_id import OfficialID

        OfficialID.from_json({**claims, "photo_digest": "0" * 32})  # validate now, list every violation
        application_id = str(uuid.uuid4())
        person = f"{claims['agency_code']}:{claims['employee_id']}"
        with self._tx() as conn:
            conn.execute(
                insert(t.applications).values(
                    id=application_id,
                    state="draft",
                    applicant=applicant,
                    person=person,
                    claims=json.dumps(dict(claims), ensure_ascii=False),
                    contact=contact,
                    device_jwk=None if device_key is None else json.dumps(device_key.to_jwk()),
                    created_at=self._clock(),
                )
            )
            self._audit(conn, applicant, "apply", application_id, {"person": person})
        return application_id

    def attach(self, application_id: str, kind: str, meta: Mapping[str, Any], content: bytes, *, actor: str) -> str:
        """Record a document (metadata + SHA-256 of the file); photos are checked from pixels."""
        if kind not in DOCUMENT_KINDS:
            raise UsageError(f"document kind must be one of {', '.join(DOCUMENT_KINDS)}")
        digest = hashlib.sha256(content).hexdigest()
        meta = dict(meta)
        if kind == "photo":
            meta["problems"] = photo_problems(content)
        with self._tx() as conn:
            row = self._application(conn, application_id)
            if row["state"] not in ("draft", "more_documents_requested"):
                raise RegistryTransitionRefused(f"documents cannot be added in state {row['state']}")
            conn.execute(
                insert(t.documents).values(
                    application_id=application_id,
                    kind=kind,
                    meta=json.dumps(meta, ensure_ascii=False, default=str),
                    sha256=digest,
                    added_at=self._clock(),
                )
            )
            self._audit(conn, actor, "attach", application_id, {"kind": kind, "sha256": digest})
        return digest

    def _documents(self, conn: Connection, application_id: str) -> list[Document]:
        rows = conn.execute(
            select(t.documents).where(t.documents.c.application_id == application_id).order_by(t.documents.c.id)
        ).mappings()
        return [Document(r["kind"], json.loads(r["meta"]), r["sha256"]) for r in rows]

    def check(self, application_id: str) -> list[str]:
        """Every missing or invalid item (empty when complete)."""
        with self._tx() as conn:
            row = self._application(conn, application_id, lock=False)
            return self._problems(conn, row)

    def _problems(self, conn: Connection, row: Mapping[str, Any]) -> list[str]:
        claims = json.loads(row["claims"])
        today = datetime.fromtimestamp(self._clock(), tz=UTC).date()
        fee = self._fees.get(int(claims["agency_code"]), DEFAULT_FEE_KRW)
        return completeness(self._documents(conn, row["id"]), today=today, fee=fee)

    def submit(self, application_id: str, *, actor: str) -> str:
        """Submit (or resubmit) a complete application."""
        with self._tx() as conn:
            row = self._application(conn, application_id)
            problems = self._problems(conn, row)
            if problems:
                raise ApplicationIncomplete(
                    f"{len(problems)} problem(s): " + "; ".join(problems), details=tuple(problems)
                )
            return self._step(conn, application_id, "submit", actor, submitted_at=self._clock())

    def review(self, application_id: str, *, reviewer: str) -> str:
        """Take the application into review."""
        with self._tx() as conn:
            self._no_self_review(conn, application_id, reviewer)
            return self._step(conn, application_id, "review", reviewer, reviewer=reviewer)

    def request_documents(self, application_id: str, *, reviewer: str, reason: str) -> str:
        """Ask the applicant for more documents."""
        with self._tx() as conn:
            self._no_self_review(conn, application_id, reviewer)
            return self._step(conn, application_id, "request_documents", reviewer, reason=reason)

    def approve(self, application_id: str, *, reviewer: str, reason: str = "") -> str:
        """Approve (never one's own application)."""
        with self._tx() as conn:
            self._no_self_review(conn, application_id, reviewer)
            return self._step(conn, application_id, "approve", reviewer, reason=reason, decided_at=self._clock())

    def reject(self, application_id: str, *, reviewer: str, reason: str) -> str:
        """Reject with a reason."""
        if not reason:
            raise UsageError("a rejection needs a reason")
        with self._tx() as conn:
            self._no_self_review(conn, application_id, reviewer)
            return self._step(conn, application_id, "reject", reviewer, reason=reason, decided_at=self._clock())

    def _no_self_review(self, conn: Connection, application_id: str, reviewer: str) -> None:
        if self._application(conn, application_id)["applicant"] == reviewer:
            raise ReviewerConflict(f"{reviewer} cannot review their own application")

    # ------------------------------------------------------------------ credentials

    def _sign(
        self, conn: Connection, application: Mapping[str, Any], claims: Mapping[str, Any], device: str | None
    ) -> IssuedRecord:
        if self._signer is None:
            raise UsageError("this registry has no signing key configured")
        now = self._clock()
        photo = next((d for d in reversed(self._documents(conn, application["id"])) if d.kind == "photo"), None)
        if photo is None:
            raise ApplicationIncomplete("no photo on file")
        reference = self._status(conn).allocate()
        holder = None if device is None else Ed25519PublicKey.from_jwk(json.loads(device))
        issuer = Issuer(self._signer(now), self._issuer_id, clock=lambda: now)
        full = {**claims, "photo_digest": photo.sha256[:32]}
        credential = issuer.issue(full, status=reference, holder_key=holder)
        conn.execute(
            insert(t.credentials).values(
                cti=credential.credential_id.hex(),
                application_id=application["id"],
                person=application["person"],
                state="issued",
                status_uri=reference.uri,
                status_idx=reference.idx,
                kid=credential.kid.hex(),
                issued_at=credential.issued_at,
                expires_at=credential.expires_at,
                qr_text=credential.qr_text,
                claims=json.dumps(dict(claims), ensure_ascii=False),
                device_jwk=device,
            )
        )
        return IssuedRecord(
            credential.credential_id.hex(), application["id"], credential.qr_text, reference, credential.expires_at
        )

    def issue(self, application_id: str, *, actor: str) -> IssuedRecord:
        """Issue the approved application's credential (one active credential per person)."""
        with self._tx() as conn:
            application = self._application(conn, application_id)
            next_state(application["state"], "issue")
            active = conn.execute(
                select(t.credentials.c.cti).where(
                    t.credentials.c.person == application["person"], t.credentials.c.state.in_(ACTIVE_STATES)
                )
            ).first()
            if active is not None:
                raise ActiveCredentialExists(f"{application['person']} already holds {active[0]}: re-issue it instead")
            record = self._sign(conn, application, json.loads(application["claims"]), application["device_jwk"])
            self._step(conn, application_id, "issue", actor)
            self._audit(
                conn, actor, "credential_issued", record.cti, {"status": [record.status.uri, record.status.idx]}
            )
            return record

    def _set_credential(
        self, cti: str, *, actor: str, action: str, state: str, status: Status, allowed: tuple[str, ...]
    ) -> str:
        with self._tx() as conn:
            row = self._credential(conn, cti)
            if row["state"] not in allowed:
                raise RegistryTransitionRefused(f"cannot {action} a credential in state {row['state']}")
            reference = StatusReference(int(row["status_idx"]), row["status_uri"])
            self._status(conn).set_status(reference, status)
            conn.execute(update(t.credentials).where(t.credentials.c.cti == cti).values(state=state))
            self._audit(conn, actor, action, cti, {"from": row["state"], "to": state})
            return state

    def suspend(self, cti: str, *, actor: str) -> str:
        """Suspend at once (phone lost)."""
        return self._set_credential(
            cti,
            actor=actor,
            action="suspend",
            state="suspended",
            status=Status.SUSPENDED,
            allowed=("issued", "needs_renewal"),
        )

    def reinstate(self, cti: str, *, actor: str) -> str:
        """Back to valid (phone found)."""
        return self._set_credential(
            cti, actor=actor, action="reinstate", state="issued", status=Status.VALID, allowed=("suspended",)
        )

    def revoke(self, cti: str, *, actor: str, reason: str = "") -> str:
        """Revoke for good."""
        return self._set_credential(
            cti, actor=actor, action="revoke", state="revoked", status=Status.REVOKED, allowed=ACTIVE_STATES
        )

    def reissue(
        self,
        cti: str,
        *,
        actor: str,
        device_key: Ed25519PublicKey | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> IssuedRecord:
        """Re-issue (new phone, or new claims after a promotion or transfer): the old credential is
        revoked, the new one gets a fresh status index, in one transaction."""
        with self._tx() as conn:
            old = self._credential(conn, cti)
            if old["state"] not in ACTIVE_STATES:
                raise RegistryTransitionRefused(f"cannot re-issue a credential in state {old['state']}")
            application = self._application(conn, old["application_id"])
            claims = {**json.loads(old["claims"]), **dict(changes or {})}
            device = json.dumps(device_key.to_jwk()) if device_key is not None else old["device_jwk"]
            self._status(conn).set_status(StatusReference(int(old["status_idx"]), old["status_uri"]), Status.REVOKED)
            conn.execute(update(t.credentials).where(t.credentials.c.cti == cti).values(state="superseded"))
            record = self._sign(conn, application, claims, device)
            self._audit(conn, actor, "reissue", cti, {"new": record.cti, "changes": dict(changes or {})})
            return record

    def renew(self, cti: str, *, actor: str, changes: Mapping[str, Any]) -> IssuedRecord:
        """Promotion or transfer: mark NEEDS_RENEWAL, then re-issue with the new claims."""
        self._set_credential(
            cti,
            actor=actor,
            action="require_renewal",
            state="needs_renewal",
            status=Status.NEEDS_RENEWAL,
            allowed=("issued",),
        )
        return self.reissue(cti, actor=actor, changes=changes)

    def expire(self, *, actor: str) -> int:
        """Mark credentials past their exp as expired; returns how many."""
        now = self._clock()
        with self._tx() as conn:
            rows = (
                conn.execute(
                    select(t.credentials.c.cti).where(
                        t.credentials.c.expires_at <= now, t.credentials.c.state.in_(ACTIVE_STATES)
                    )
                )
                .scalars()
                .all()
            )
            for cti in rows:
                conn.execute(update(t.credentials).where(t.credentials.c.cti == cti).values(state="expired"))
                self._audit(conn, actor, "expire", cti, {})
            return len(rows)

    # ------------------------------------------------------------------ reading

    def show(self, application_id: str) -> dict[str, Any]:
        """An application with its documents, SLA and credentials."""
        with self._tx() as conn:
            row = dict(self._application(conn, application_id, lock=False))
            row["claims"] = json.loads(row["claims"])
            row["documents"] = [
                {"kind": d.kind, "sha256": d.sha256, "meta": d.meta} for d in self._documents(conn, application_id)
            ]
            row["problems"] = self._problems(conn, row | {"claims": json.dumps(row["claims"])})
            row["sla"] = sla_report(row["submitted_at"], row["decided_at"], self._clock())
            creds = conn.execute(
                select(t.credentials).where(t.credentials.c.application_id == application_id)
            ).mappings()
            row["credentials"] = [
                {k: c[k] for k in ("cti", "state", "status_uri", "status_idx", "issued_at", "expires_at")}
                for c in creds
            ]
            return row

    def credential(self, cti: str) -> dict[str, Any]:
        """One credential record."""
        with self._tx() as conn:
            return dict(self._credential(conn, cti))

    def applications(self, state: str | None = None) -> list[dict[str, Any]]:
        """Applications (optionally in one state), newest first."""
        query = select(
            t.applications.c.id, t.applications.c.state, t.applications.c.person, t.applications.c.created_at
        )
        if state:
            query = query.where(t.applications.c.state == state)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query.order_by(t.applications.c.created_at.desc())).mappings()]

    def counts(self) -> dict[str, int]:
        """Credentials per state."""
        with self._tx() as conn:
            rows = conn.execute(select(t.credentials.c.state, func.count()).group_by(t.credentials.c.state))
            return {state: int(n) for state, n in rows}

    def audit_verify(self) -> tuple[int, int | None]:
        """(entries, the seq of the first broken entry or None)."""
        with self._tx() as conn:
            rows = [dict(r) for r in conn.execute(select(t.audit_log).order_by(t.audit_log.c.seq)).mappings()]
            head = conn.execute(select(t.audit_head)).mappings().first()
        broken = first_broken(rows)
        if (
            broken is None
            and head is not None
            and rows
            and (head["seq"] != rows[-1]["seq"] or head["hash"] != rows[-1]["hash"])
        ):
            broken = int(rows[-1]["seq"])  # the tail was cut or replaced
        return len(rows), broken

    def export_status(self, uri: str, key: Ed25519PrivateKey, *, ttl: int = 43200, validity: int = 7 * 86400) -> bytes:
        """A signed Status List Token of one list, as of now."""
        with self._tx() as conn:
            store = _ConnStore(conn, self._status_config)
            info = next((i for i in store.lists() if i.uri == uri), None)
            if info is None:
                raise RecordNotFound(f"no status list {uri}")
            builder = StatusListBuilder(info.size, info.bits)
            builder.update(store.nonzero(uri))
        now = self._clock()
        return sign_token(builder.freeze(), uri, key, issued_at=now, expires_at=now + validity, ttl=ttl)

    def status_lists(self) -> list[ListInfo]:
        """The status lists and their allocation."""
        with self._tx() as conn:
            return _ConnStore(conn, self._status_config).lists()
