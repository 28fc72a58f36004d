"""The JSON API: accounts and sessions, applications and documents, review, credentials.

Every state-changing request needs the session's CSRF token (``X-CSRF-Token`` header or
``csrf_token`` form field); errors are problem+json with our codes. Another person's application,
document or credential answers 404 ``RECORD_NOT_FOUND``, exactly as a missing one does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import AccessDenied, RecordNotFound, RegistryTransitionRefused, UploadRefused, UsageError
from .accounts import Account
from .core import Service
from .http import (
    FORM_MAX_FIELDS,
    FORM_MAX_FILES,
    check_csrf,
    csrf_token,
    current_account,
    end_session,
    require,
    service_of,
    start_session,
)
from .uploads import check_upload, parse_meta

REVIEW_STATES = ("submitted", "resubmitted", "under_review")
STAFF = ("reviewer", "operator")
MAX_JSON_BYTES = 64 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body (``USAGE_ERROR`` if it is not one)."""
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise UsageError(f"a JSON body is limited to {MAX_JSON_BYTES} bytes")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise UsageError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise UsageError("the body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = True, limit: int = 2000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise UsageError(f"{name} must be text of at most {limit} characters" + (" (required)" if required else ""))
    return value


def account_json(account: Account) -> dict[str, str]:
    return {"id": account.id, "username": account.username, "role": account.role}


# ------------------------------------------------------------------ accounts and sessions


async def session_get(request: Request) -> Response:
    """The signed-in account (or null) and the CSRF token for the next state-changing request."""
    account = current_account(request)
    return JSONResponse(
        {"account": None if account is None else account_json(account), "csrf_token": csrf_token(request)}
    )


async def session_create(request: Request) -> Response:
    """Sign in: ``{"username", "password"}`` -> session cookie and a new CSRF token."""
    await check_csrf(request)
    data = await json_body(request)
    service = service_of(request)
    client = request.client.host if request.client else "unknown"
    account = await run_in_threadpool(
        service.accounts.authenticate,
        _text(data, "username", limit=200),
        _text(data, "password", limit=2000),
        client=client,
    )
    cookies = Response()
    token = await start_session(request, cookies, account)
    response = JSONResponse({"account": account_json(account), "csrf_token": token})
    for value in cookies.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


async def session_delete(request: Request) -> Response:
    """Sign out."""
    await check_csrf(request)
    response = Response(status_code=204)
    await end_session(request, response)
    return response


async def account_create(request: Request) -> Response:
    """Register an applicant account: ``{"username", "password"}``."""
    await check_csrf(request)
    data = await json_body(request)
    service = service_of(request)
    account = await run_in_threadpool(
        service.accounts.create,
        _text(data, "username", limit=200),
        _text(data, "password", limit=2000),
        "applicant",
        created_by="self",
    )
    return JSONResponse({"account": account_json(account)}, status_code=201)


async def staff_create(request: Request) -> Response:
    """An operator creates a reviewer (or another operator): ``{"username", "password", "role"}``."""
    operator = require(request, "operator")
    await check_csrf(request)
    data = await json_body(request)
    role = data.get("role", "reviewer")
    if role not in STAFF:
        raise UsageError("role must be reviewer or operator")
    service = service_of(request)
    account = await run_in_threadpool(
        service.accounts.create,
        _text(data, "username", limit=200),
        _text(data, "password", limit=2000),
        role,
        created_by=operator.actor,
    )
    return JSONResponse({"account": account_json(account)}, status_code=201)


async def staff_list(request: Request) -> Response:
    """Reviewer and operator accounts (operators only)."""
    require(request, "operator")
    service = service_of(request)
    accounts = await run_in_threadpool(service.accounts.list)
    return JSONResponse({"accounts": [account_json(a) for a in accounts if a.is_staff]})


# ------------------------------------------------------------------ applications


def _visible(service: Service, account: Account, application_id: str) -> dict[str, Any]:
    """The application if ``account`` owns it or is staff; else the same 404 as a missing one."""
    try:
        shown = service.registry.show(application_id)
    except RecordNotFound:
        raise RecordNotFound("no such application") from None
    if shown["applicant"] != account.actor and not account.is_staff:
        raise RecordNotFound("no such application")
    return shown


def _owned(service: Service, account: Account, application_id: str) -> dict[str, Any]:
    shown = _visible(service, account, application_id)
    if shown["applicant"] != account.actor:
        raise AccessDenied("only the applicant can do this")
    return shown


def application_json(shown: dict[str, Any]) -> dict[str, Any]:
    """The API form of an application: no internal columns, no file paths."""
    return {
        "id": shown["id"],
        "state": shown["state"],
        "claims": shown["claims"],
        "contact": shown["contact"],
        "created_at": shown["created_at"],
        "submitted_at": shown["submitted_at"],
        "decided_at": shown["decided_at"],
        "reason": shown["reason"],
        "documents": [
            {
                "kind": d["kind"],
                "sha256": d["sha256"],
                "media_type": d["meta"].get("media_type"),
                "filename": d["meta"].get("filename"),
                "size": d["meta"].get("size"),
                "meta": {k: v for k, v in d["meta"].items() if k not in ("media_type", "filename", "size")},
            }
            for d in shown["documents"]
        ],
        "problems": shown["problems"],
        "sla": shown["sla"],
        "credentials": shown["credentials"],
    }


async def application_create(request: Request) -> Response:
    """Open an application: ``{"claims": {...official-ID JSON without photo_digest}, "contact"}``."""
    account = require(request)
    await check_csrf(request)
    data = await json_body(request)
    claims = data.get("claims")
    if not isinstance(claims, dict):
        raise UsageError("claims must be an object of official-ID fields")
    claims.pop("photo_digest", None)
    service = service_of(request)
    application_id = await run_in_threadpool(
        lambda: service.registry.apply(
            applicant=account.actor, claims=claims, contact=_text(data, "contact", limit=256)
        )
    )
    shown = await run_in_threadpool(service.registry.show, application_id)
    return JSONResponse(application_json(shown), status_code=201)


async def application_list(request: Request) -> Response:
    """The account's own applications; for staff every application (``?state=`` filters)."""
    account = require(request)
    service = service_of(request)
    state = request.query_params.get("state") or None

    def run() -> list[dict[str, Any]]:
        rows = service.registry.applications(state)
        if account.is_staff:
            return rows
        mine = []
        for row in rows:
            shown = service.registry.show(row["id"])
            if shown["applicant"] == account.actor:
                mine.append({"id": row["id"], "state": row["state"], "created_at": row["created_at"]})
        return mine

    return JSONResponse({"applications": await run_in_threadpool(run)})


async def application_get(request: Request) -> Response:
    """One application with documents, problems, SLA and credentials."""
    account = require(request)
    service = service_of(request)
    shown = await run_in_threadpool(_visible, service, account, request.path_params["application_id"])
    return JSONResponse(application_json(shown))


async def document_upload(request: Request) -> Response:
    """Upload one document: multipart ``kind``, ``file``, optional ``meta`` (JSON object text)."""
    account = require(request)
    await check_csrf(request)
    service = service_of(request)
    application_id = request.path_params["application_id"]
    shown = await run_in_threadpool(_owned, service, account, application_id)
    if shown["state"] not in ("draft", "more_documents_requested"):
        raise UploadRefused(f"documents cannot be added in state {shown['state']}")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UploadRefused("send the document as multipart/form-data with fields kind, file and meta")
    form = await request.form(max_files=FORM_MAX_FILES, max_fields=FORM_MAX_FIELDS)  # parsed once (CSRF check)
    upload, kind, meta_text = form.get("file"), form.get("kind"), form.get("meta")
    if not isinstance(upload, UploadFile) or not isinstance(kind, str):
        raise UploadRefused("fields kind and file are required")
    content = await upload.read(service.settings.max_upload_bytes + 1)
    today = datetime.fromtimestamp(service.clock(), tz=UTC).date()
    checked = check_upload(
        kind,
        content,
        filename=upload.filename or "",
        declared_type=upload.content_type,
        meta=parse_meta(meta_text if isinstance(meta_text, str) else None),
        max_bytes=service.settings.max_upload_bytes,
        today=today,
    )
    meta = {**checked.meta, "media_type": checked.media_type, "filename": checked.filename, "size": checked.size}

    def store() -> str:
        service.storage.put(content)
        return service.registry.attach(application_id, checked.kind, meta, content, actor=account.actor)

    digest = await run_in_threadpool(store)
    return JSONResponse({"kind": checked.kind, "sha256": digest, "media_type": checked.media_type}, status_code=201)


async def document_get(request: Request) -> Response:
    """A document's content, to its applicant and to reviewers only (not operators)."""
    account = require(request)
    service = service_of(request)
    shown = await run_in_threadpool(_visible, service, account, request.path_params["application_id"])
    if shown["applicant"] != account.actor and account.role != "reviewer":
        raise RecordNotFound("no such document")
    digest = request.path_params["sha256"]
    document = next((d for d in shown["documents"] if d["sha256"] == digest), None)
    if document is None:
        raise RecordNotFound("no such document")
    content = await run_in_threadpool(service.storage.get, digest)
    return Response(
        content,
        media_type=str(document["meta"].get("media_type", "application/octet-stream")),
        headers={"content-disposition": "attachment", "cache-control": "no-store, private"},
    )


async def application_submit(request: Request) -> Response:
    """Submit (or, after a request for documents, resubmit) a complete application."""
    account = require(request)
    await check_csrf(request)
    service = service_of(request)
    application_id = request.path_params["application_id"]
    await run_in_threadpool(_owned, service, account, application_id)
    state = await run_in_threadpool(lambda: service.registry.submit(application_id, actor=account.actor))
    return JSONResponse({"id": application_id, "state": state})


async def offer_create(request: Request) -> Response:
    """A credential offer for the wallet (approved application, or re-issue to a new phone).

    The response is the only place the 6-digit transaction code appears."""
    account = require(request)
    await check_csrf(request)
    service = service_of(request)
    offer = await run_in_threadpool(service.wallet.create_offer, account, request.path_params["application_id"])
    return JSONResponse(
        {
            "offer_id": offer.offer_id,
            "kind": offer.kind,
            "credential_offer": offer.credential_offer,
            "offer_uri": offer.offer_uri,
            "offer_uri_by_value": offer.offer_uri_by_value,
            "qr_png": f"/api/offers/{offer.offer_id}/qr.png",
            "tx_code": offer.tx_code,
            "expires_at": offer.expires_at,
        },
        status_code=201,
        headers={"cache-control": "no-store"},
    )


async def offer_qr(request: Request) -> Response:
    """The by-reference offer URI as a QR image (PNG), for its applicant."""
    account = require(request)
    service = service_of(request)
    uri = await run_in_threadpool(service.wallet.offer_uri_for, account, request.path_params["offer_id"])
    png = await run_in_threadpool(offer_png, uri)
    return Response(png, media_type="image/png", headers={"cache-control": "no-store, private"})


def offer_png(uri: str) -> bytes:
    """A QR code (byte mode, ECC M, 6 px per module, 4-module quiet zone) of an offer URI."""
    import io

    import qrcode
    import qrcode.constants

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    code.add_data(uri.encode("utf-8"))
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


# ------------------------------------------------------------------ review


async def review_queue(request: Request) -> Response:
    """Applications waiting for review, oldest first; ``overdue`` past the target days."""
    account = require(request, *STAFF)
    service = service_of(request)
    limit_days = service.settings.review_overdue_days

    def run() -> list[dict[str, Any]]:
        now = service.clock()
        queue = []
        for state in REVIEW_STATES:
            for row in service.registry.applications(state):
                shown = service.registry.show(row["id"])
                submitted = shown["submitted_at"] or shown["created_at"]
                age_days = (now - submitted) / 86400
                queue.append(
                    {
                        "id": row["id"],
                        "state": row["state"],
                        "submitted_at": submitted,
                        "age_days": round(age_days, 2),
                        "overdue": age_days > limit_days,
                        "own": shown["applicant"] == account.actor,
                        "name": shown["claims"].get("name"),
                        "agency": shown["claims"].get("agency"),
                    }
                )
        return sorted(queue, key=lambda item: item["submitted_at"])

    return JSONResponse({"queue": await run_in_threadpool(run), "target_days": [3, limit_days]})


def _decide(action: str) -> Any:
    async def decide(request: Request) -> Response:
        reviewer = require(request, *STAFF)
        await check_csrf(request)
        data = await json_body(request)
        reason = _text(data, "reason", required=action != "approve")
        service = service_of(request)
        application_id = request.path_params["application_id"]

        def run() -> str:
            registry = service.registry
            if registry.show(application_id)["state"] in ("submitted", "resubmitted"):
                registry.review(application_id, reviewer=reviewer.actor)
            if action == "approve":
                return registry.approve(application_id, reviewer=reviewer.actor, reason=reason)
            if action == "reject":
                return registry.reject(application_id, reviewer=reviewer.actor, reason=reason)
            return registry.request_documents(application_id, reviewer=reviewer.actor, reason=reason)

        return JSONResponse({"id": application_id, "state": await run_in_threadpool(run)})

    decide.__name__ = f"review_{action}"
    decide.__doc__ = {
        "approve": "Approve (never one's own application).",
        "reject": "Reject with a reason.",
        "request_documents": "Ask the applicant for more documents (with a reason).",
    }[action]
    return decide


# ------------------------------------------------------------------ credentials


def credential_json(record: dict[str, Any]) -> dict[str, Any]:
    """A credential record without its QR text."""
    return {
        k: record[k] for k in ("cti", "application_id", "state", "status_uri", "status_idx", "issued_at", "expires_at")
    }


async def credential_get(request: Request) -> Response:
    """A credential record (its holder and staff)."""
    account = require(request)
    service = service_of(request)
    record = await run_in_threadpool(service.wallet.owned_credential, account, request.path_params["cti"])
    return JSONResponse(credential_json(record))


async def credential_report_lost(request: Request) -> Response:
    """The holder reports the phone lost: suspended at once and republished."""
    account = require(request)
    await check_csrf(request)
    service = service_of(request)
    cti = request.path_params["cti"]

    def run() -> str:
        service.wallet.owned_credential(account, cti)
        application = service.registry.show(service.registry.credential(cti)["application_id"])
        if application["applicant"] != account.actor:
            raise AccessDenied("only the holder reports their phone lost; operators suspend")
        current = service.registry.credential(cti)["state"]
        if current == "suspended":  # never turn the office's suspension into the holder's own
            raise RegistryTransitionRefused("the ID is suspended already")
        state = service.registry.report_lost(cti, actor=account.actor)
        service.wallet.record_suspension(cti, "holder")
        service.publisher.publish()
        return state

    return JSONResponse({"cti": cti, "state": await run_in_threadpool(run)})


async def credential_change(request: Request) -> Response:
    """The holder applies for changed claims (promotion, transfer): a change application that goes
    through review like the first one; its issuance supersedes the credential."""
    account = require(request)
    await check_csrf(request)
    data = await json_body(request)
    changes = data.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise UsageError('give the changed claims: {"changes": {"rank": "..."}}')
    service = service_of(request)
    cti = request.path_params["cti"]

    def run() -> dict[str, Any]:
        service.wallet.owned_credential(account, cti)
        if service.registry.show(service.registry.credential(cti)["application_id"])["applicant"] != account.actor:
            raise RecordNotFound("no such credential")
        application_id = service.registry.apply_change(cti, applicant=account.actor, changes=changes)
        return application_json(service.registry.show(application_id))

    return JSONResponse(await run_in_threadpool(run), status_code=201)


def _operate(action: str) -> Any:
    async def operate(request: Request) -> Response:
        operator = require(request, "operator")
        await check_csrf(request)
        data = await json_body(request)
        service = service_of(request)
        cti = request.path_params["cti"]

        def run() -> dict[str, Any]:
            registry = service.registry
            if action == "renew":
                changes = data.get("changes") or {}
                if not isinstance(changes, dict):
                    raise UsageError('changes must be an object, e.g. {"changes": {"rank": "..."}}')
                record = registry.renew(cti, actor=operator.actor, changes=changes)
                result = {"cti": cti, "state": "superseded", "new_cti": record.cti}
            elif action == "revoke":
                result = {
                    "cti": cti,
                    "state": registry.revoke(cti, actor=operator.actor, reason=str(data.get("reason", ""))),
                }
            else:
                result = {"cti": cti, "state": getattr(registry, action)(cti, actor=operator.actor)}
                service.wallet.record_suspension(cti, "operator" if action == "suspend" else None)
            service.publisher.publish()
            return result

        return JSONResponse(await run_in_threadpool(run))

    operate.__name__ = f"credential_{action}"
    operate.__doc__ = {
        "suspend": "Suspend (operators).",
        "reinstate": "Reinstate a suspended credential (operators).",
        "revoke": "Revoke for good (operators).",
        "renew": "Promotion or transfer: re-issue with changed claims (operators).",
    }[action]
    return operate


def routes() -> list[Route]:
    """The JSON API's routes."""
    return [
        Route("/api/session", session_get, methods=["GET"]),
        Route("/api/session", session_create, methods=["POST"]),
        Route("/api/session", session_delete, methods=["DELETE"]),
        Route("/api/accounts", account_create, methods=["POST"]),
        Route("/api/staff", staff_list, methods=["GET"]),
        Route("/api/staff", staff_create, methods=["POST"]),
        Route("/api/applications", application_list, methods=["GET"]),
        Route("/api/applications", application_create, methods=["POST"]),
        Route("/api/applications/{application_id}", application_get, methods=["GET"]),
        Route("/api/applications/{application_id}/documents", document_upload, methods=["POST"]),
        Route("/api/applications/{application_id}/documents/{sha256}", document_get, methods=["GET"]),
        Route("/api/applications/{application_id}/submit", application_submit, methods=["POST"]),
        Route("/api/applications/{application_id}/offer", offer_create, methods=["POST"]),
        Route("/api/offers/{offer_id}/qr.png", offer_qr, methods=["GET"]),
        Route("/api/reviews", review_queue, methods=["GET"]),
        Route("/api/reviews/{application_id}/approve", _decide("approve"), methods=["POST"]),
        Route("/api/reviews/{application_id}/reject", _decide("reject"), methods=["POST"]),
        Route("/api/reviews/{application_id}/request-documents", _decide("request_documents"), methods=["POST"]),
        Route("/api/credentials/{cti}", credential_get, methods=["GET"]),
        Route("/api/credentials/{cti}/report-lost", credential_report_lost, methods=["POST"]),
        Route("/api/credentials/{cti}/change", credential_change, methods=["POST"]),
        Route("/api/credentials/{cti}/suspend", _operate("suspend"), methods=["POST"]),
        Route("/api/credentials/{cti}/reinstate", _operate("reinstate"), methods=["POST"]),
        Route("/api/credentials/{cti}/revoke", _operate("revoke"), methods=["POST"]),
        Route("/api/credentials/{cti}/renew", _operate("renew"), methods=["POST"]),
    ]
