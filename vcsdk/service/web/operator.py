"""The operator's pages: accounts, the status list and the audit log (keys, agencies and
credential actions are in :mod:`.admin`)."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import AccountExists, UsageError
from ..accounts import Account
from ..http import service_of
from . import forms, queries
from .common import call, flash_of, form_of, page, text
from .render import render, translator, when
from .reviewer import audit_rows


@page("operator")
async def admin_accounts(request: Request, account: Account) -> Response:
    """Accounts; an operator creates reviewer (and operator) accounts."""
    service = service_of(request)
    t = translator(request)
    errors: dict[str, forms.FieldError] = {}
    values: dict[str, Any] = {}
    flash = None
    status_code = 200
    if request.method == "POST":
        form = await form_of(request)
        role = text(form, "role") if text(form, "role") in ("reviewer", "operator") else "reviewer"
        values = {"username": text(form, "username").strip(), "role": role}
        password = text(form, "password")
        if not values["username"]:
            errors["username"] = ("v.required", {"field": "field.username"})
        if len(password) < 10:
            errors["password"] = ("v.password_short", {})
        if not errors:
            try:
                created = await call(
                    service.accounts.create, values["username"], password, role, created_by=account.actor
                )
            except AccountExists:
                errors["username"] = ("v.username_taken", {})
            except UsageError:
                errors["username"] = ("v.username_bad", {})
            else:
                flash = ("success", t("admin.created", name=created.username))
                values = {}
        status_code = 400 if errors else 200
    listed = await call(service.accounts.list)
    return render(
        request, "admin_accounts.html", status=status_code, errors=errors, values=values, flash=flash, accounts=listed
    )


def _publication(request: Request, manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last publication of the trust list and bundle: when, until when, when it is re-signed
    next, its version, the key that signs now and the keys the trust list names."""
    if manifest is None:
        return None
    service = service_of(request)
    settings = service.settings
    lang = translator(request).lang
    now = service.clock()
    published, expires = manifest.get("published_at"), manifest.get("expires_at")
    if not isinstance(published, int) or not isinstance(expires, int):
        return None
    files = {}
    for name in ("trust-list", "bundle"):
        content = service.publisher.read(name)
        files[name] = None if content is None else '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    return {
        "published": when(published, lang),
        "expires": when(expires, lang),
        "expired": now >= expires,
        "next": when(published + max(1, min(settings.status_ttl, settings.status_validity) // 2), lang),
        "version": manifest.get("version"),
        "signer": service.keys.active_kid(),
        "listed": len(service.keys.trusted(now)),
        "files": files,
    }


@page("operator")
async def admin_status(request: Request, account: Account) -> Response:
    """Status lists, their allocation and publication; publish now."""
    service = service_of(request)
    t = translator(request)
    if request.method == "POST":
        await call(service.publisher.publish)
        return RedirectResponse("/admin/status?msg=admin.published_now", status_code=303)
    lists = await call(service.registry.status_lists)
    manifest = await call(service.publisher.manifest)
    published = None
    stamp = None if manifest is None else manifest.get("published_at")
    if isinstance(stamp, int):
        published = when(stamp, t.lang)
    rows = []
    for info in lists:
        name = info.uri.rsplit("/", 1)[-1]
        content = await call(service.publisher.read, f"status/{name}")
        etag = None if content is None else '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
        rows.append(
            {
                "uri": info.uri,
                "allocated": info.allocated,
                "size": info.size,
                "published": published if content else None,
                "etag": etag,
            }
        )
    counts = sorted((await call(service.registry.counts)).items())
    return render(
        request,
        "admin_status.html",
        lists=rows,
        counts=counts,
        publication=await call(_publication, request, manifest),
        publish_url="/admin/status",
        flash=flash_of(request),
    )


@page("operator")
async def admin_audit(request: Request, account: Account) -> Response:
    """The newest audit entries; check the whole hash chain."""
    service = service_of(request)
    t = translator(request)
    chain = None
    if request.method == "POST":
        report = await call(service.registry.audit_verify)
        chain = {"entries": report.entries, "ok": report.ok, "broken": report.broken_at, "problems": report.problems}
    entries = await call(queries.recent_audit, service.engine)
    return render(
        request,
        "audit.html",
        title=t("audit.title_all"),
        entries=await call(audit_rows, service, entries, t.lang),
        chain=chain,
        check_url="/admin/audit",
        back_url="",
    )
