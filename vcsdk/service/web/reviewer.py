"""The reviewer's pages: the queue, one application, and its audit trail."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import RegistryTransitionRefused, ReviewerConflict
from ...registry.workflow import DOCUMENT_KINDS
from ..accounts import Account
from ..core import Service
from ..http import service_of
from . import forms, queries
from .common import REVIEW_STATES, agencies, call, form_of, latest, page, problem_lines, visible
from .render import render, translator, when


@page("reviewer", "operator")
async def review_queue(request: Request, account: Account) -> Response:
    """Applications to review, oldest first; overdue ones flagged; filters by state and agency."""
    service = service_of(request)
    t = translator(request)
    overdue_days = service.settings.review_overdue_days
    state = request.query_params.get("state", "")
    agency = request.query_params.get("agency_code", "")
    overdue_only = request.query_params.get("overdue") == "1"
    states = (state,) if state in REVIEW_STATES else REVIEW_STATES
    rows = await call(queries.review_rows, service.engine, states)
    now = service.clock()
    shown = []
    for row in rows:
        submitted = row["submitted_at"] or row["created_at"]
        days = (now - submitted) / 86400
        overdue = days > overdue_days
        if agency and str(row["agency_code"]) != agency:
            continue
        if overdue_only and not overdue:
            continue
        shown.append(
            {
                "name": row["name"],
                "agency": row["agency"],
                "state": row["state"],
                "submitted": when(submitted, t.lang),
                "days": int(days),
                "overdue": overdue,
                "url": f"/review/{row['id']}",
            }
        )
    return render(
        request,
        "review_queue.html",
        rows=shown,
        overdue_days=overdue_days,
        states=[(s, t("state." + s)) for s in REVIEW_STATES],
        agencies=list(agencies(service, t.lang).items()),
        filters={"state": state, "agency_code": agency, "overdue": overdue_only},
    )


def meta_rows(document: dict[str, Any], t: Any) -> list[tuple[str, str]]:
    """A document's details for the reviewer, in a fixed order, in the page language."""
    meta = dict(document["meta"])
    if document["kind"] == "fee_payment":
        meta = {k: v for k, v in meta.items() if k in ("amount", "method", "receipt")}
    order = (
        "type",
        "number",
        "expiry",
        "captured",
        "signed_by",
        "amount",
        "method",
        "receipt",
        "filename",
        "media_type",
        "size",
    )
    rows = []
    for key in order:
        if key in meta and meta[key] not in ("", None):
            value = meta[key]
            if key == "size":
                value = f"{int(value):,} B"
            elif key == "amount":
                value = f"{int(value):,}원" if t.lang == "ko" else f"KRW {int(value):,}"
            elif key == "type" and t.has(f"idtype.{value}"):
                value = t(f"idtype.{value}")
            elif key == "method" and t.has(f"method.{value}"):
                value = t(f"method.{value}")
            rows.append((key, str(value)))
    return rows


@page("reviewer", "operator")
async def review_detail(request: Request, account: Account) -> Response:
    """An application with its documents side by side, and the decision form."""
    service = service_of(request)
    t = translator(request)
    application_id = request.path_params["application_id"]
    shown = await call(visible, service, account, application_id)
    errors: dict[str, forms.FieldError] = {}
    values: dict[str, Any] = {}
    status_code = 200
    if request.method == "POST":
        form = await form_of(request)
        checked = forms.check_decision(form)
        values = checked.values
        errors = dict(checked.errors)
        if shown["applicant"] == account.actor:
            errors["decision"] = ("review.conflict", {})
        if not errors:

            def run() -> str:
                registry = service.registry
                if registry.show(application_id)["state"] in ("submitted", "resubmitted"):
                    registry.review(application_id, reviewer=account.actor)
                decision, reason = values["decision"], values["reason"]
                if decision == "approve":
                    return registry.approve(application_id, reviewer=account.actor, reason=reason)
                if decision == "reject":
                    return registry.reject(application_id, reviewer=account.actor, reason=reason)
                return registry.request_documents(application_id, reviewer=account.actor, reason=reason)

            try:
                await run_in_threadpool(run)
            except ReviewerConflict:
                errors["decision"] = ("review.conflict", {})
            except RegistryTransitionRefused:
                return RedirectResponse(f"/review/{application_id}", status_code=303)
            else:
                return RedirectResponse("/review", status_code=303)
        status_code = 400
    now = service.clock()
    submitted = shown["submitted_at"] or shown["created_at"]
    days = (now - submitted) / 86400
    by_kind = latest(shown["documents"])
    docs = []
    for kind in DOCUMENT_KINDS:
        document = by_kind.get(kind)
        docs.append(
            {
                "kind": kind,
                "state": "missing" if document is None else "received",
                "meta": [] if document is None else meta_rows(document, t),
                "problems": problem_lines(t, shown["problems"], kind) if document is not None else [],
                "url": f"/applications/{application_id}/documents/{kind}/file",
            }
        )
    app = {
        **shown,
        "days": int(days),
        "overdue": days > service.settings.review_overdue_days and shown["state"] in REVIEW_STATES,
    }
    return render(
        request,
        "review_detail.html",
        status=status_code,
        errors=errors,
        values=values,
        app=app,
        docs=docs,
        problems=problem_lines(t, shown["problems"]),
        actionable=shown["state"] in REVIEW_STATES,
        show_files=account.role == "reviewer",
        urls={"decide": f"/review/{application_id}", "audit": f"/review/{application_id}/audit"},
    )


def audit_rows(service: Service, entries: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Audit entries for staff pages: who by user name and role, the details short and readable."""
    names: dict[str, str] = {}
    for entry in entries:
        actor = str(entry["actor"])
        if actor not in names:
            account = service.accounts.get(actor.removeprefix("account:")) if actor.startswith("account:") else None
            names[actor] = actor if account is None else f"{account.username} ({account.role})"
    rows = []
    for entry in entries:
        try:
            data = json.loads(entry["data"]) if entry["data"] else {}
        except ValueError:
            data = {"data": entry["data"]}
        parts = []
        for key, value in sorted(data.items()) if isinstance(data, dict) else []:
            text_value = str(value)
            if key in ("sha256", "new") or text_value.startswith("account:"):
                text_value = names.get(text_value, text_value[:12] + "…" if len(text_value) > 16 else text_value)
            elif key in ("submitted_at", "decided_at") and isinstance(value, int):
                text_value = when(value, lang)
            parts.append(f"{key}: {text_value}")
        rows.append(
            {
                "seq": entry["seq"],
                "when": when(entry["at"], lang),
                "actor": names[str(entry["actor"])],
                "action": entry["action"],
                "data": "; ".join(parts),
            }
        )
    return rows


@page("reviewer", "operator")
async def review_audit(request: Request, account: Account) -> Response:
    """The audit trail of one application and its credentials."""
    service = service_of(request)
    t = translator(request)
    application_id = request.path_params["application_id"]
    shown = await call(visible, service, account, application_id)
    entries = await call(
        queries.audit_trail, service.engine, [application_id, *(c["cti"] for c in shown["credentials"])]
    )
    return render(
        request,
        "audit.html",
        title=t("audit.title_app", name=shown["claims"].get("name", "")),
        entries=await call(audit_rows, service, entries, t.lang),
        chain=None,
        check_url="",
        back_url=f"/review/{application_id}",
    )


# ------------------------------------------------------------------ operator
