"""The applicant's status, the offer QR code, the credential, a lost phone and a new phone."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import RegistryTransitionRefused
from ..accounts import Account
from ..core import Service
from ..http import service_of
from . import queries
from .common import REFRESH_DAYS, REVIEW_STATES, call, flash_of, owned, page
from .render import render, translator, when

# ------------------------------------------------------------------ applicant: status, offer, credential


def timeline(t: Any, entries: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Audit entries as the applicant's timeline (no internal ids or digests)."""
    out = []
    for entry in entries:
        data = json.loads(entry["data"]) if entry["data"] else {}
        detail = ""
        if entry["action"] == "attach":
            detail = t("doc." + str(data.get("kind", "")))
        elif entry["action"] in ("request_documents", "reject") and data.get("reason"):
            detail = str(data["reason"])
        out.append(
            {
                "action": entry["action"],
                "when": when(entry["at"], lang),
                "iso": datetime.fromtimestamp(int(entry["at"]), tz=UTC).isoformat(),
                "detail": detail,
            }
        )
    return out


@page("applicant")
async def status(request: Request, account: Account) -> Response:
    """The application's state, the review timeline and what to do next."""
    service = service_of(request)
    t = translator(request)
    application_id = request.path_params["application_id"]
    shown = await call(owned, service, account, application_id)
    subjects = [application_id, *(c["cti"] for c in shown["credentials"])]
    entries = await call(queries.audit_trail, service.engine, subjects)
    sla = None
    if shown["submitted_at"] and shown["state"] in REVIEW_STATES:
        sla = {"days": int((service.clock() - shown["submitted_at"]) // 86400)}
    step = {"draft": 2, "more_documents_requested": 2}.get(shown["state"], 5)
    credentials = [{**c, "url": f"/my-id/{c['cti']}"} for c in reversed(shown["credentials"])]
    return render(
        request,
        "status.html",
        app=shown,
        sla=sla,
        credentials=credentials,
        timeline=timeline(t, entries, t.lang),
        flash=flash_of(request),
        urls={
            "documents": f"/applications/{application_id}/documents",
            "submit": f"/applications/{application_id}/submit",
            "offer": f"/applications/{application_id}/offer",
        },
        step=step,
    )


async def show_offer_code(request: Request, account: Account, application_id: str) -> Response:
    """Make an offer and show its transaction code (only here, only now)."""
    service = service_of(request)
    offer = await call(service.wallet.create_offer, account, application_id)
    minutes = max(1, (offer.expires_at - service.clock()) // 60)
    return render(
        request,
        "offer_code.html",
        tx_code=offer.tx_code,
        minutes=minutes,
        qr_url=f"/applications/{application_id}/offer/{offer.offer_id}",
    )


@page("applicant")
async def offer_create(request: Request, account: Account) -> Response:
    """A credential offer for the wallet: first the transaction code, then the QR."""
    application_id = request.path_params["application_id"]
    await call(owned, service_of(request), account, application_id)
    return await show_offer_code(request, account, application_id)


@page("applicant")
async def offer_qr(request: Request, account: Account) -> Response:
    """The offer as a QR code (by reference) and as a link for a wallet on this phone."""
    service = service_of(request)
    application_id = request.path_params["application_id"]
    await call(owned, service, account, application_id)
    status_url = f"/applications/{application_id}"
    new_offer_url = f"/applications/{application_id}/offer"
    try:
        uri = await call(service.wallet.offer_uri_for, account, request.path_params["offer_id"])
    except RegistryTransitionRefused:
        return render(request, "offer_qr.html", expired=True, status_url=status_url, new_offer_url=new_offer_url)
    png = await call(offer_png, uri)
    data = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return render(
        request,
        "offer_qr.html",
        expired=False,
        qr_data=data,
        offer_uri=uri,
        status_url=status_url,
        new_offer_url=new_offer_url,
    )


def offer_png(uri: str) -> bytes:
    """The offer URI as a QR code (PNG, byte mode: a URI is not QR-alphanumeric text)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=6)
    code.add_data(uri.encode("utf-8"))
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


def credential_view(record: dict[str, Any], lang: str) -> dict[str, Any]:
    """A credential record as its page shows it (never the QR text)."""
    refresh = None
    if record["state"] == "issued":
        refresh = when(int(record["issued_at"]) + REFRESH_DAYS * 86400, lang)
    return {
        "cti": record["cti"],
        "state": record["state"],
        "issued": when(record["issued_at"], lang),
        "expires": when(record["expires_at"], lang),
        "next_refresh": refresh,
        "application_id": record["application_id"],
    }


def own_credential(service: Service, account: Account, cti: str) -> dict[str, Any]:
    """A credential of ``account`` (404 for anyone else's, staff included: this is the holder's page)."""
    record = service.wallet.owned_credential(account, cti)
    owned(service, account, record["application_id"])
    return record


@page("applicant")
async def credential(request: Request, account: Account) -> Response:
    """The credential's state and next refresh; report the phone lost; move to a new phone."""
    service = service_of(request)
    t = translator(request)
    cti = request.path_params["cti"]
    record = await call(own_credential, service, account, cti)
    view = credential_view(record, t.lang)
    state = record["state"]
    holder_suspended = state == "suspended" and await call(service.wallet.suspended_by, cti) == "holder"
    view["can_move"] = state == "issued" or holder_suspended
    view["office_hold"] = state in ("suspended", "needs_renewal") and not holder_suspended
    urls = {
        "lost": f"/my-id/{cti}/lost",
        "new_phone": f"/my-id/{cti}/new-phone",
        "status": f"/applications/{record['application_id']}",
    }
    return render(request, "credential.html", cred=view, urls=urls, flash=flash_of(request))


@page("applicant")
async def report_lost(request: Request, account: Account) -> Response:
    """One confirmation, then the credential is suspended at once and the lists republished."""
    service = service_of(request)
    cti = request.path_params["cti"]
    record = await call(own_credential, service, account, cti)
    if request.method == "GET":
        if record["state"] not in ("issued", "needs_renewal"):
            return RedirectResponse(f"/my-id/{cti}", status_code=303)
        return render(request, "lost_confirm.html", action=request.url.path, back_url=f"/my-id/{cti}")

    def run() -> None:
        if service.registry.credential(cti)["state"] in ("issued", "needs_renewal"):
            service.registry.suspend(cti, actor=account.actor)
            service.wallet.record_suspension(cti, "holder")  # so the holder may move to a new phone
            service.publisher.publish()

    await run_in_threadpool(run)
    return RedirectResponse(f"/my-id/{cti}?msg=lost.done", status_code=303)


@page("applicant")
async def new_phone(request: Request, account: Account) -> Response:
    """An offer that re-issues the credential to a new phone (the old one is retired on redemption)."""
    service = service_of(request)
    record = await call(own_credential, service, account, request.path_params["cti"])
    return await show_offer_code(request, account, str(record["application_id"]))


# ------------------------------------------------------------------ reviewer
