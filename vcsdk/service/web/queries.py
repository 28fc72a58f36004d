"""Read-only look-ups the pages need and the registry's API does not offer (one query each):
an account's applications, the review queue with names and ages, an application's audit trail."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, or_, select

from ...registry import tables as t


def applications_of(engine: Engine, actor: str) -> list[dict[str, Any]]:
    """The applications an account opened (newest first)."""
    query = (
        select(t.applications.c.id, t.applications.c.state, t.applications.c.created_at)
        .where(t.applications.c.applicant == actor)
        .order_by(t.applications.c.created_at.desc(), t.applications.c.id)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def review_rows(engine: Engine, states: tuple[str, ...]) -> list[dict[str, Any]]:
    """Applications in ``states`` with what the queue shows, oldest submission first."""
    a = t.applications
    query = (
        select(a.c.id, a.c.state, a.c.applicant, a.c.claims, a.c.submitted_at, a.c.created_at)
        .where(a.c.state.in_(states))
        .order_by(a.c.submitted_at, a.c.created_at)
    )
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        claims = json.loads(row.pop("claims"))
        row["name"] = claims.get("name", "")
        row["agency"] = claims.get("agency", "")
        row["agency_code"] = claims.get("agency_code")
    return rows


def audit_trail(engine: Engine, subjects: list[str]) -> list[dict[str, Any]]:
    """Audit entries about the given subjects (an application id and its credentials), in order."""
    if not subjects:
        return []
    query = select(t.audit_log).where(or_(*(t.audit_log.c.subject == s for s in subjects))).order_by(t.audit_log.c.seq)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def recent_audit(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    """The newest audit entries."""
    query = select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
