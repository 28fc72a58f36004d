"""The operator's pages that change things: signing keys (rotate, withdraw), agencies and fees,
and a credential's lifecycle (suspend, reinstate, revoke, renew).

Every change needs the operator role, the session's CSRF token and a ticked confirmation; each
form also carries what the operator saw (the active kid, the credential's state), so a form sent
twice or after someone else's change does nothing and says so. Results come back through a
redirect (reloading never repeats an action) with a message naming what changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import Engine, or_, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import KeyInvalid, KeyringChanged, RecordNotFound, RegistryTransitionRefused
from ...registry import tables as t
from ..accounts import Account
from ..agencies import AgencyInvalid, parse_code, parse_fee, parse_name
from ..http import service_of
from ..operations import ACTIONS, ALLOWED_FROM, MAX_REASON, operate
from ..tables import accounts
from . import forms
from .common import call, form_of, page, text
from .render import day, render, translator, when

KID = re.compile(r"[0-9a-f]{16}")
CTI = re.compile(r"[0-9a-f]{32}")
SEARCH_LIMIT = 50


def _confirmed(form: Any) -> bool:
    return text(form, "confirm") == "yes"


# ------------------------------------------------------------------ keys


async def _keys_page(request: Request, *, status: int = 200, **context: Any) -> Response:
    service = service_of(request)
    t = translator(request)
    now = service.clock()
    views = await call(service.keys.views, now)
    rows = [
        {
            "kid": v.kid,
            "state": "withdrawn" if v.withdrawn is not None else v.state,
            "created": when(v.created, t.lang),
            "window": f"{day(v.not_before)} ~ {day(v.not_after)}",
            "published": v.published,
            "drops": day(v.drops_at),
            "url": f"/admin/keys/{v.kid}",
        }
        for v in views
    ]
    active = next((r["kid"] for r in rows if r["state"] == "active"), "")
    anchor = service.settings.anchor_key.kid.hex()
    return render(request, "admin_keys.html", status=status, keys=rows, active=active, anchor=anchor, **context)


@page("operator")
async def admin_keys(request: Request, account: Account) -> Response:
    """The issuer keys: which signs now, which are verify-only, the trust anchor; rotate."""
    t = translator(request)
    flash = None
    done = request.query_params.get("done")
    if done in ("rotated", "withdrawn"):
        kid = request.query_params.get("kid", "")
        flash = ("success", t("keys." + done, kid=kid if KID.fullmatch(kid) else ""))
    return await _keys_page(request, flash=flash)


@page("operator")
async def admin_keys_rotate(request: Request, account: Account) -> Response:
    """Rotate (POST only): a new key signs; the old one stays verify-only; republished."""
    service = service_of(request)
    t = translator(request)
    form = await form_of(request)
    expected = text(form, "expected")
    if not _confirmed(form):
        errors: dict[str, forms.FieldError] = {"confirm": ("keys.confirm_needed", {})}
        return await _keys_page(request, status=400, errors=errors)
    try:
        record = await call(service.keys.rotate, actor=account.actor, expected=expected)
    except KeyringChanged:
        return await _keys_page(request, status=409, flash=("warning", t("keys.stale")))
    await call(service.publisher.publish)
    return RedirectResponse(f"/admin/keys?done=rotated&kid={record.kid}", status_code=303)


@page("operator")
async def admin_key(request: Request, account: Account) -> Response:
    """One key; a verify-only key can be withdrawn from the trust list (with a confirmation)."""
    service = service_of(request)
    t = translator(request)
    kid = request.path_params["kid"]
    views = await call(service.keys.views, service.clock())
    view = next((v for v in views if v.kid == kid), None) if KID.fullmatch(kid) else None
    if view is None:
        raise RecordNotFound("no such key")
    errors: dict[str, forms.FieldError] = {}
    status_code = 200
    if request.method == "POST":
        form = await form_of(request)
        if view.state == "active":
            errors["confirm"] = ("keys.withdraw_active", {})
        elif not _confirmed(form):
            errors["confirm"] = ("keys.confirm_needed", {})
        else:
            try:
                await call(service.keys.withdraw, kid, actor=account.actor)
            except KeyInvalid:
                raise RecordNotFound("no such key") from None
            await call(service.publisher.publish)
            return RedirectResponse(f"/admin/keys?done=withdrawn&kid={kid}", status_code=303)
        status_code = 400
    shown = {
        "kid": view.kid,
        "state": "withdrawn" if view.withdrawn is not None else view.state,
        "created": when(view.created, t.lang),
        "not_before": when(view.not_before, t.lang),
        "not_after": when(view.not_after, t.lang) if view.not_after else "",
        "published": view.published,
        "drops": day(view.drops_at),
        "can_withdraw": view.state != "active" and view.withdrawn is None,
    }
    return render(request, "admin_key.html", status=status_code, errors=errors, key=shown)


# ------------------------------------------------------------------ agencies and fees


def _agency_rows(request: Request) -> list[dict[str, Any]]:
    service = service_of(request)
    lang = translator(request).lang
    return [
        {"code": a.code, "name": a.name(lang), "fee": a.fee, "active": a.active, "url": f"/admin/agencies/{a.code}"}
        for a in service.agencies.all()
    ]


@page("operator")
async def admin_agencies(request: Request, account: Account) -> Response:
    """Agencies offered in the form and their fees; add one."""
    service = service_of(request)
    t = translator(request)
    errors: dict[str, forms.FieldError] = {}
    values: dict[str, str] = {}
    flash = None
    done = request.query_params.get("done", "")
    if re.fullmatch(r"(added|saved)-[0-9]{7}", done):
        flash = ("success", t("agency." + done[:-8], code=done[-7:]))
    if request.method == "POST":
        form = await form_of(request)
        values = {k: text(form, k) for k in ("code", "name_ko", "name_en", "fee")}
        parsed: dict[str, Any] = {}
        for name, check in (
            ("code", lambda v: parse_code(v)),
            ("name_ko", lambda v: parse_name(v, "name_ko", required=True)),
            ("name_en", lambda v: parse_name(v, "name_en", required=False)),
            ("fee", lambda v: parse_fee(v)),
        ):
            try:
                parsed[name] = check(values[name])
            except AgencyInvalid as exc:
                errors[name] = (exc.key, {"field": "agency.field_" + name})
        if not errors:
            try:
                await call(
                    service.agencies.add,
                    parsed["code"],
                    parsed["name_ko"],
                    parsed["name_en"],
                    parsed["fee"],
                    actor=account.actor,
                )
            except AgencyInvalid as exc:
                errors[exc.field] = (exc.key, {"field": "agency.field_" + exc.field})
            else:
                return RedirectResponse(f"/admin/agencies?done=added-{parsed['code']}", status_code=303)
    rows = await call(_agency_rows, request)
    return render(
        request,
        "admin_agencies.html",
        status=400 if errors else 200,
        errors=errors,
        values=values,
        flash=flash,
        agencies=rows,
    )


def _agency_seen(agency: Any) -> str:
    """What the form was built from (fee, English name, offered): a form sent after another
    change of the agency is refused rather than undoing that change."""
    data = json.dumps([agency.fee, agency.name_en, agency.active], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


@page("operator")
async def admin_agency(request: Request, account: Account) -> Response:
    """One agency: change its fee (0 allowed) or English name, offer it or not."""
    service = service_of(request)
    raw = request.path_params["code"]
    if not re.fullmatch(r"[0-9]{7}", raw):
        raise RecordNotFound("no such agency")
    agency = await call(service.agencies.get, int(raw))
    errors: dict[str, forms.FieldError] = {}
    values = {"fee": str(agency.fee), "name_en": agency.name_en, "active": "yes" if agency.active else "no"}
    if request.method == "POST":
        form = await form_of(request)
        values = {k: text(form, k) for k in ("fee", "name_en", "active")}
        if text(form, "seen") != _agency_seen(agency):  # sent twice, or another operator changed it
            t = translator(request)
            return render(
                request,
                "admin_agency.html",
                status=409,
                errors={},
                values=values,
                flash=("warning", t("agency.stale", code=agency.code)),
                agency={"code": agency.code, "name_ko": agency.name_ko, "seen": _agency_seen(agency)},
            )
        fee = name_en = None
        try:
            fee = parse_fee(values["fee"])
        except AgencyInvalid as exc:
            errors["fee"] = (exc.key, {"field": "agency.field_fee"})
        try:
            name_en = parse_name(values["name_en"], "name_en", required=False)
        except AgencyInvalid as exc:
            errors["name_en"] = (exc.key, {"field": "agency.field_name_en"})
        if values["active"] not in ("yes", "no"):
            errors["active-yes"] = ("agency.active_choose", {})
        if not errors:
            await call(
                service.agencies.update,
                agency.code,
                actor=account.actor,
                fee=fee,
                name_en=name_en,
                active=values["active"] == "yes",
            )
            return RedirectResponse(f"/admin/agencies?done=saved-{agency.code}", status_code=303)
    return render(
        request,
        "admin_agency.html",
        status=400 if errors else 200,
        errors=errors,
        values=values,
        agency={"code": agency.code, "name_ko": agency.name_ko, "seen": _agency_seen(agency)},
    )


# ------------------------------------------------------------------ credentials


def search_credentials(engine: Engine, query: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Credentials matching ``query`` (a cti or its prefix, or exactly a name, an employee number
    or a holder's user name); newest first; the newest ones when ``query`` is empty."""
    c, a = t.credentials, t.applications
    statement = (
        select(c.c.cti, c.c.state, c.c.issued_at, c.c.kid, c.c.claims, accounts.c.username)
        .join(a, a.c.id == c.c.application_id)
        .join(accounts, a.c.applicant == "account:" + accounts.c.id, isouter=True)
        .order_by(c.c.issued_at.desc(), c.c.cti)
        .limit(limit)
    )
    query = query.strip()[:100]
    if query:

        def like(fragment: str) -> Any:
            escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return c.c.claims.like("%" + escaped + "%", escape="\\")

        statement = statement.where(
            or_(
                c.c.cti.startswith(query.lower(), autoescape=True),
                like(json.dumps({"name": query}, ensure_ascii=False)[1:-1]),
                like(json.dumps({"employee_id": query}, ensure_ascii=False)[1:-1]),
                accounts.c.username == query,
            )
        )
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(statement).mappings()]
    for row in rows:
        claims = json.loads(row.pop("claims"))
        row.update(name=claims.get("name", ""), agency=claims.get("agency", ""))
        row["employee_id"] = claims.get("employee_id", "")
    return rows


@page("operator")
async def admin_credentials(request: Request, account: Account) -> Response:
    """Find a credential by holder, name, employee number or id."""
    service = service_of(request)
    t = translator(request)
    query = request.query_params.get("q", "")
    rows = await call(search_credentials, service.engine, query)
    for row in rows:
        row["issued"] = when(row["issued_at"], t.lang)
        row["url"] = f"/admin/credentials/{row['cti']}"
    return render(request, "admin_credentials.html", rows=rows, q=query[:100])


def _credential_view(request: Request, cti: str) -> dict[str, Any]:
    service = service_of(request)
    t = translator(request)
    record = service.registry.credential(cti)
    application = service.registry.show(record["application_id"])
    applicant = str(application["applicant"])
    holder = service.accounts.get(applicant.removeprefix("account:")) if applicant.startswith("account:") else None
    claims = json.loads(record["claims"])
    return {
        "cti": cti,
        "state": record["state"],
        "name": claims.get("name", ""),
        "agency": claims.get("agency", ""),
        "rank": claims.get("rank", ""),
        "employee_id": claims.get("employee_id", ""),
        "holder": holder.username if holder is not None else "",
        "issued": when(record["issued_at"], t.lang),
        "expires": when(record["expires_at"], t.lang),
        "kid": record.get("kid", ""),
        "status": f"{record['status_uri']} #{record['status_idx']}",
        "reason": record.get("reason") or "",
        "actions": [a for a in ACTIONS if record["state"] in ALLOWED_FROM[a]],
    }


@page("operator")
async def admin_credential(request: Request, account: Account) -> Response:
    """One credential; suspend, reinstate, revoke or renew it with a reason and a confirmation."""
    service = service_of(request)
    t = translator(request)
    cti = request.path_params["cti"]
    if not CTI.fullmatch(cti):
        raise RecordNotFound("no such credential")
    view = await call(_credential_view, request, cti)
    errors: dict[str, forms.FieldError] = {}
    values: dict[str, str] = {}
    flash = None
    status_code = 200
    done = request.query_params.get("done")
    if done in ACTIONS:
        flash = ("success", t("credops.done." + str(done)))
    if request.method == "POST":
        form = await form_of(request)
        values = {k: text(form, k) for k in ("action", "reason", "seen")}
        action = values["action"]
        reason = " ".join(values["reason"].split())
        if values["seen"] != view["state"]:  # sent twice, or someone else acted meanwhile
            flash = ("warning", t("credops.stale", state=t("state." + view["state"])))
            kept = {"reason": values["reason"]}  # the reason typed stays; the action is chosen again
            return render(request, "admin_credential.html", status=409, flash=flash, cred=view, values=kept)
        if action not in ACTIONS:
            errors["action-" + (view["actions"] or ["suspend"])[0]] = ("credops.choose", {})
        elif action not in view["actions"]:
            errors["action-" + (view["actions"] or ["suspend"])[0]] = ("credops.not_now", {})
        if not reason:
            errors["reason"] = ("v.enter", {"field": "credops.reason"})
        elif len(reason) > MAX_REASON or not reason.isprintable():
            errors["reason"] = ("credops.reason_long", {"n": MAX_REASON})
        if not _confirmed(form):
            errors["confirm"] = ("credops.confirm_needed", {})
        if not errors:
            try:
                result = await call(operate, service, account.actor, cti, action, reason=reason)
            except RegistryTransitionRefused:
                fresh = await call(_credential_view, request, cti)
                flash = ("warning", t("credops.stale", state=t("state." + fresh["state"])))
                kept = {"reason": values["reason"]}
                return render(request, "admin_credential.html", status=409, flash=flash, cred=fresh, values=kept)
            target = result.get("new_cti", cti)
            return RedirectResponse(f"/admin/credentials/{target}?done={action}", status_code=303)
        status_code = 400
    return render(
        request, "admin_credential.html", status=status_code, errors=errors, values=values, flash=flash, cred=view
    )
