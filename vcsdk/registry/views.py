"""Reading the registry: applications, credentials, counts, the audit log and its checkpoints,
and publication of the status lists."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..codec.cwt import StatusReference
from ..errors import RecordNotFound, StatusEntryNotFound, UsageError
from ..keys import Ed25519PrivateKey, Ed25519PublicKey
from ..trust.store import TrustStore
from . import audit
from . import tables as t
from .lifecycle import LifecycleMixin
from .status import DEFAULT_TOKEN_VALIDITY_SECONDS, DEFAULT_TTL_SECONDS, ListInfo, StatusAllocator
from .stores import SQLStatusStore
from .workflow import sla_report

_CREDENTIAL_FIELDS = ("cti", "state", "status_uri", "status_idx", "issued_at", "expires_at", "reason")


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A credential as the registry holds it (never its QR text: re-issue to get a new one)."""

    cti: str
    application_id: str
    person: str
    state: str
    status: StatusReference
    kid: str
    issued_at: int
    expires_at: int
    claims: dict[str, Any]
    device_key: Ed25519PublicKey | None
    reason: str | None


class ViewsMixin(LifecycleMixin):
    """Read-only views, audit and publication of :class:`~vcsdk.registry.IssuerRegistry`."""

    def show(self, application_id: str) -> dict[str, Any]:
        """An application with its documents, SLA and credentials."""
        with self._tx() as conn:
            row = dict(self._application(conn, application_id, lock=False))
            row["problems"] = self._problems(conn, row)
            row["claims"] = json.loads(row["claims"])
            row["documents"] = [
                {"kind": d.kind, "sha256": d.sha256, "meta": d.meta} for d in self._documents(conn, application_id)
            ]
            row["sla"] = sla_report(row["submitted_at"], row["decided_at"], self._clock())
            creds = conn.execute(
                select(t.credentials).where(t.credentials.c.application_id == application_id)
            ).mappings()
            row["credentials"] = [{k: c[k] for k in _CREDENTIAL_FIELDS} for c in creds]
            return row

    def credential(self, cti: str) -> dict[str, Any]:
        """One credential record as a dict (:meth:`lookup` gives a typed record)."""
        with self._tx() as conn:
            return self._credential(conn, cti, lock=False)

    def lookup(self, cti: str) -> CredentialRecord | None:
        """The credential with this cti (hex), or None."""
        with self._tx() as conn:
            row = conn.execute(select(t.credentials).where(t.credentials.c.cti == cti)).mappings().first()
        if row is None:
            return None
        device = row["device_jwk"]
        return CredentialRecord(
            cti=row["cti"],
            application_id=row["application_id"],
            person=row["person"],
            state=row["state"],
            status=StatusReference(int(row["status_idx"]), row["status_uri"]),
            kid=row["kid"],
            issued_at=int(row["issued_at"]),
            expires_at=int(row["expires_at"]),
            claims=json.loads(row["claims"]),
            device_key=None if device is None else Ed25519PublicKey.from_jwk(json.loads(device)),
            reason=row["reason"],
        )

    def applications(self, state: str | None = None) -> list[dict[str, Any]]:
        """Applications (optionally in one state), newest first."""
        a = t.applications.c
        query = select(a.id, a.state, a.person, a.created_at, a.replaces)
        if state:
            query = query.where(a.state == state)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query.order_by(a.created_at.desc())).mappings()]

    def counts(self) -> dict[str, int]:
        """Credentials per state."""
        with self._tx() as conn:
            rows = conn.execute(select(t.credentials.c.state, func.count()).group_by(t.credentials.c.state))
            return {state: int(n) for state, n in rows}

    # ------------------------------------------------------------------ audit

    def audit_verify(self, *, checkpoints: Iterable[bytes] = (), trust: TrustStore | None = None) -> audit.AuditReport:
        """Check the chain and its head, each signed checkpoint (verified with ``trust``), and
        reconcile credential states and status bits against the log."""
        opened = [audit.open_checkpoint(data, trust or TrustStore([])) for data in checkpoints]
        with self._tx() as conn:
            return audit.verify(conn, self._issuer_id, opened)

    def audit_entries(self, *, subject: str | None = None, after: int = 0) -> Iterator[dict[str, Any]]:
        """The audit log as JSON-ready entries, in order."""
        with self._tx() as conn:
            entries = [audit.public_entry(row) for row in audit.rows(conn, subject=subject, after=after)]
        yield from entries

    def audit_checkpoint(self, key: Ed25519PrivateKey | None = None) -> bytes:
        """Sign the current head (with ``key``, else the issuer's signing key) after checking
        that the log verifies: keep the file outside the database."""
        with self._tx() as conn:
            report = audit.verify(conn, self._issuer_id)
            head = conn.execute(select(t.audit_head)).mappings().one()
        if not report.ok:
            raise UsageError("the audit log does not verify: refusing to sign it; " + "; ".join(report.problems))
        now = self._clock()
        if key is None:
            if self._signer is None:
                raise UsageError("no key to sign the checkpoint with")
            key = self._signer(now)
        return audit.sign_checkpoint(self._issuer_id, int(head["seq"]), head["hash"], key, issued_at=now)

    # ------------------------------------------------------------------ status lists

    def export_status(
        self,
        uri: str,
        key: Ed25519PrivateKey,
        *,
        ttl: int = DEFAULT_TTL_SECONDS,
        validity: int = DEFAULT_TOKEN_VALIDITY_SECONDS,
    ) -> bytes:
        """A signed Status List Token of one list, as of now."""
        with self._tx() as conn:
            allocator = StatusAllocator(SQLStatusStore(conn, self._status_config), clock=self._clock)
            try:
                return allocator.publish(uri, key, ttl=ttl, validity=validity)
            except StatusEntryNotFound:
                raise RecordNotFound(f"no status list {uri}") from None

    def status_lists(self) -> list[ListInfo]:
        """The status lists and their allocation."""
        with self._tx() as conn:
            return SQLStatusStore(conn, self._status_config).lists()
