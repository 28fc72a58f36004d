"""The applicant's application: the form, the fee and submitting."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import CSRFTokenInvalid, QRSizeBudgetExceeded, RecordNotFound, RegistryTransitionRefused, VCError
from ...registry.workflow import DOCUMENT_KINDS
from ..accounts import Account
from ..core import Service
from ..http import check_csrf, current_account, service_of
from . import forms, queries
from .common import (
    EDITABLE,
    agencies,
    call,
    doc_rows,
    error_page,
    fee_of,
    form_of,
    korean_agencies,
    latest,
    login_redirect,
    owned,
    page,
    problem_lines,
    resume_token,
    text,
    today,
)
from .render import HOME, render, translator

# ------------------------------------------------------------------ applicant: the form


async def applications(request: Request) -> Response:
    """An applicant's start: their newest application, or a new one."""
    account = current_account(request)
    if account is None:
        return login_redirect(request)
    if account.role != "applicant":
        return RedirectResponse(HOME.get(account.role, "/"), status_code=303)
    service = service_of(request)
    mine = await call(queries.applications_of, service.engine, account.actor)
    if not mine:
        return RedirectResponse("/applications/new", status_code=303)
    return RedirectResponse(f"/applications/{mine[0]['id']}", status_code=303)


async def application_form(request: Request) -> Response:
    """The application form (new, or a draft to change). A form sent after the session ended
    leads to the sign-in page, which then shows it back filled in."""
    service = service_of(request)
    account = current_account(request)
    application_id = request.path_params.get("application_id")
    action = request.url.path
    if account is None:
        if request.method == "POST":
            form = await form_of(request)
            values = {name: text(form, name) for name in forms.APPLICATION_FIELDS}
            token = resume_token(service, action, values)
            return render(request, "login.html", status=401, next="", resume=token)
        return login_redirect(request)
    t = translator(request)
    if account.role != "applicant":
        return error_page(request, 403, t("error.forbidden"), t("error.forbidden_text"))
    shown: dict[str, Any] | None = None
    try:
        if application_id is not None:
            shown = await call(owned, service, account, application_id)
            if shown["state"] != "draft":
                return RedirectResponse(f"/applications/{application_id}", status_code=303)
        if request.method == "POST":
            await check_csrf(request)
    except RecordNotFound:
        return error_page(request, 404, t("error.not_found"), t("error.not_found_text"))
    except CSRFTokenInvalid:
        return error_page(request, 400, t("error.csrf"), t("error.csrf_text"))
    options = list(agencies(service, t.lang).items())
    if request.method == "GET":
        typed: dict[str, Any] = {}
        if shown is not None:
            typed = {k: str(v) for k, v in shown["claims"].items()} | {"contact": shown["contact"]}
        return render(request, "apply_form.html", values=typed, action=action, agencies=options, step=1)
    form = await form_of(request)
    checked = forms.check_application(form, korean_agencies(service), today(service))
    if not checked.ok:
        return render(
            request,
            "apply_form.html",
            status=400,
            errors=checked.errors,
            values=checked.values,
            action=action,
            agencies=options,
            step=1,
        )
    claims = forms.application_claims(checked.values, korean_agencies(service))
    contact = checked.values["contact"]
    if not await call(fits_qr, service, claims):
        errors: dict[str, forms.FieldError] = {
            name: ("v.qr_budget", {}) for name in ("unit", "position", "name_latin") if checked.values[name]
        } or {"rank": ("v.qr_budget", {})}
        return render(
            request,
            "apply_form.html",
            status=400,
            errors=errors,
            values=checked.values,
            action=action,
            agencies=options,
            step=1,
        )
    if shown is None:
        new_id = await call(service.registry.apply, applicant=account.actor, claims=claims, contact=contact)
        return RedirectResponse(f"/applications/{new_id}/documents", status_code=303)
    await call(service.registry.amend, shown["id"], claims=claims, contact=contact, actor=account.actor)
    return RedirectResponse(f"/applications/{shown['id']}/submit", status_code=303)


def fits_qr(service: Service, claims: dict[str, Any]) -> bool:
    """Whether these details fit the ID's QR code once bound to a phone (tried with throwaway
    keys, the service's status URI and the largest status index)."""
    from ...codec.cwt import StatusReference
    from ...issue import Issuer
    from ...keys import Ed25519PrivateKey

    issuer = Issuer(Ed25519PrivateKey.generate(), service.settings.issuer_id, clock=service.clock)
    uri = service.settings.status_uri_template.replace("{n}", "9999")
    try:
        issuer.issue(
            {**claims, "photo_digest": "0" * 32},
            status=StatusReference(2**32 - 1, uri),
            holder_key=Ed25519PrivateKey.generate().public_key,
        )
    except QRSizeBudgetExceeded:
        return False
    return True


# ------------------------------------------------------------------ applicant: fee and submit


@page("applicant")
async def fee(request: Request, account: Account) -> Response:
    """Record the fee payment (card or transfer reference; nothing to pay when the fee is 0)."""
    service = service_of(request)
    application_id = request.path_params["application_id"]
    shown = await call(owned, service, account, application_id)
    code = int(shown["claims"]["agency_code"])
    amount = fee_of(service, code)
    agency = agencies(service, translator(request).lang).get(code, shown["claims"]["agency"])
    paid_doc = latest(shown["documents"]).get("fee_payment")
    paid = None if paid_doc is None else {"amount": paid_doc["meta"].get("amount", 0)}
    context = {"fee": amount, "agency": agency, "action": request.url.path, "paid": paid, "step": 3}
    if request.method == "GET":
        values = {} if paid_doc is None else {k: str(v) for k, v in paid_doc["meta"].items()}
        return render(request, "fee.html", values=values, **context)
    if shown["state"] not in EDITABLE:
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    form = await form_of(request)
    checked, meta = forms.check_fee(form, amount)
    if not checked.ok:
        return render(request, "fee.html", status=400, errors=checked.errors, values=checked.values, **context)
    content = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def store() -> None:
        service.storage.put(content)
        record = {**meta, "media_type": "application/json", "filename": "fee-payment.json", "size": len(content)}
        service.registry.attach(application_id, "fee_payment", record, content, actor=account.actor)

    await run_in_threadpool(store)
    return RedirectResponse(f"/applications/{application_id}/submit", status_code=303)


@page("applicant")
async def submit(request: Request, account: Account) -> Response:
    """Check the answers and submit (or resubmit); a second submit changes nothing."""
    service = service_of(request)
    t = translator(request)
    application_id = request.path_params["application_id"]
    shown = await call(owned, service, account, application_id)
    if request.method == "POST":
        if shown["state"] not in EDITABLE:
            return RedirectResponse(f"/applications/{application_id}?msg=submit.already", status_code=303)
        try:
            await call(service.registry.submit, application_id, actor=account.actor)
        except RegistryTransitionRefused:  # submitted meanwhile (a double click in another tab)
            return RedirectResponse(f"/applications/{application_id}?msg=submit.already", status_code=303)
        except VCError:
            shown = await call(owned, service, account, application_id)
        else:
            return RedirectResponse(f"/applications/{application_id}?msg=submit.done", status_code=303)
    if shown["state"] not in EDITABLE:
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    return render(
        request,
        "submit.html",
        claims=shown["claims"],
        contact=shown["contact"],
        docs=doc_rows(t, application_id, shown, DOCUMENT_KINDS),
        problems=problem_lines(t, shown["problems"]),
        action=request.url.path,
        edit_url=f"/applications/{application_id}/edit",
        docs_url=f"/applications/{application_id}/documents",
        step=4,
    )
