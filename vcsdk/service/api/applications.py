"""The JSON API: applications, documents and offers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...errors import RecordNotFound, UploadRefused, UsageError
from ..http import FORM_MAX_FIELDS, FORM_MAX_FILES, check_csrf, require, service_of
from ..uploads import check_upload, parse_meta
from .common import _owned, _text, _visible, json_body

# ------------------------------------------------------------------ applications


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
    await run_in_threadpool(service.agencies.check_claims, claims)
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
