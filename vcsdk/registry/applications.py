"""Applications: apply, attach documents, submit, review, decide; change applications.

A change of personal data (promotion, transfer, a new employee id) is an application like any
other: :meth:`ApplicationsMixin.apply_change` opens one for an active credential, it is
submitted, reviewed and approved, and issuing it supersedes the old credential.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..errors import ApplicationIncomplete, RegistryTransitionRefused, ReviewerConflict, UsageError
from ..keys import Ed25519PublicKey
from . import tables as t
from .base import ACTIVE_STATES, RegistryBase
from .workflow import DEFAULT_FEE_KRW, DOCUMENT_KINDS, Document, completeness, photo_problems


def _validate(claims: Mapping[str, Any]) -> None:
    from ..profiles.official_id import OfficialID

    OfficialID.from_json({**claims, "photo_digest": "0" * 32})  # validate now, list every violation


class ApplicationsMixin(RegistryBase):
    """The application workflow of :class:`~vcsdk.registry.IssuerRegistry`."""

    def apply(
        self,
        *,
        applicant: str,
        claims: Mapping[str, Any],
        contact: str,
        device_key: Ed25519PublicKey | None = None,
    ) -> str:
        """Open an application (state draft); returns its id. ``claims``: official-ID JSON form
        without ``photo_digest`` (it comes from the photo document). ``device_key``: the holder's
        phone key, recorded now; issuance then needs its proof of possession."""
        _validate(claims)
        if device_key is not None:
            from ..holder.proof import check_device_key

            check_device_key(device_key)
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

    def amend(self, application_id: str, *, claims: Mapping[str, Any], contact: str, actor: str) -> None:
        """Change a draft's details (claims without ``photo_digest``, and contact); audited as ``update``."""
        _validate(claims)
        person = f"{claims['agency_code']}:{claims['employee_id']}"
        with self._tx() as conn:
            row = self._application(conn, application_id)
            if row["state"] != "draft":
                raise RegistryTransitionRefused(f"only a draft can be changed, not one in state {row['state']}")
            conn.execute(
                update(t.applications)
                .where(t.applications.c.id == application_id)
                .values(claims=json.dumps(dict(claims), ensure_ascii=False), contact=contact, person=person)
            )
            self._audit(conn, actor, "update", application_id, {"person": person})

    def apply_change(self, cti: str, *, applicant: str, changes: Mapping[str, Any], contact: str | None = None) -> str:
        """Open a change application for an active credential (new rank, agency, unit, employee
        id, ...): the old claims with ``changes``, the old application's documents carried over.
        It goes through submit -> review -> approve; :meth:`issue` then supersedes ``cti``."""
        if not changes:
            raise UsageError("a change application needs at least one changed claim")
        if "photo_digest" in changes:
            raise UsageError("a new photo is a document: attach it to the change application")
        with self._tx() as conn:
            old = self._credential(conn, cti)
            if old["state"] not in ACTIVE_STATES:
                raise RegistryTransitionRefused(f"cannot change a credential in state {old['state']}")
            source = self._application(conn, old["application_id"], lock=False)
            claims = {**json.loads(old["claims"]), **dict(changes)}
            _validate(claims)
            application_id = str(uuid.uuid4())
            person = f"{claims['agency_code']}:{claims['employee_id']}"
            now = self._clock()
            conn.execute(
                insert(t.applications).values(
                    id=application_id,
                    state="draft",
                    applicant=applicant,
                    person=person,
                    claims=json.dumps(claims, ensure_ascii=False),
                    contact=contact or source["contact"],
                    device_jwk=old["device_jwk"],
                    created_at=now,
                    replaces=cti,
                )
            )
            for document in self._documents(conn, source["id"]):
                conn.execute(
                    insert(t.documents).values(
                        application_id=application_id,
                        kind=document.kind,
                        meta=json.dumps(dict(document.meta), ensure_ascii=False, default=str),
                        sha256=document.sha256,
                        added_at=now,
                    )
                )
            self._audit(
                conn, applicant, "apply_change", application_id, {"person": person, "replaces": cti, "changes": changes}
            )
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
        """Take the application into review (a configured reviewer, never the applicant)."""
        with self._tx() as conn:
            self._decider(conn, application_id, reviewer)
            return self._step(conn, application_id, "review", reviewer, reviewer=reviewer)

    def request_documents(self, application_id: str, *, reviewer: str, reason: str) -> str:
        """Ask the applicant for more documents."""
        with self._tx() as conn:
            self._decider(conn, application_id, reviewer)
            return self._step(conn, application_id, "request_documents", reviewer, reason=reason)

    def approve(self, application_id: str, *, reviewer: str, reason: str = "") -> str:
        """Approve (never one's own application)."""
        with self._tx() as conn:
            self._decider(conn, application_id, reviewer)
            return self._step(conn, application_id, "approve", reviewer, reason=reason, decided_at=self._clock())

    def reject(self, application_id: str, *, reviewer: str, reason: str) -> str:
        """Reject with a reason."""
        if not reason:
            raise UsageError("a rejection needs a reason")
        with self._tx() as conn:
            self._decider(conn, application_id, reviewer)
            return self._step(conn, application_id, "reject", reviewer, reason=reason, decided_at=self._clock())

    def _decider(self, conn: Connection, application_id: str, reviewer: str) -> None:
        self._require(conn, "reviewer", reviewer)
        if self._application(conn, application_id)["applicant"] == reviewer:
            raise ReviewerConflict(f"{reviewer} cannot review their own application")
