"""The applicant's documents: the list, uploads (with the photo checks) and the files."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import RecordNotFound, UploadRefused
from ...registry.workflow import DOCUMENT_KINDS, PHOTO_ASPECT, PHOTO_ASPECT_TOLERANCE, PHOTO_MIN_PIXELS
from ..accounts import Account
from ..http import TOO_LARGE_FIELD, service_of
from ..uploads import ALLOWED_TYPES, DEFAULT_ALLOWED, check_upload, sniff
from . import forms
from .common import EDITABLE, UPLOAD_KINDS, call, doc_rows, form_of, latest, owned, page, today, visible
from .render import render, translator

# ------------------------------------------------------------------ applicant: documents and fee


def megabytes(size: int) -> str:
    """A byte limit as the pages state it: whole MB, or MB rounded down to two decimals."""
    whole, rest = divmod(size, 1024 * 1024)
    if not rest or whole >= 10:
        return str(whole)
    return f"{size * 100 // (1024 * 1024) / 100:.2f}".rstrip("0").rstrip(".")


@page("applicant")
async def documents(request: Request, account: Account) -> Response:
    """What is still missing, and where to upload each document."""
    service = service_of(request)
    application_id = request.path_params["application_id"]
    shown = await call(owned, service, account, application_id)
    t = translator(request)
    rows = doc_rows(t, application_id, shown, UPLOAD_KINDS)
    return render(
        request,
        "documents.html",
        docs=rows,
        missing=[r for r in rows if r["state"] == "missing"],
        editable=shown["state"] in EDITABLE,
        request_reason=shown["reason"] if shown["state"] == "more_documents_requested" else "",
        next_url=f"/applications/{application_id}/fee",
        status_url=f"/applications/{application_id}",
        step=2,
    )


def photo_checks(t: Any, content: bytes | None, captured: str, today_: date) -> list[dict[str, Any]]:
    """The photo's checks as the applicant sees them: size, shape, age."""
    checks: list[dict[str, Any]] = []
    size = image_size(content) if content else None
    if content and size is None:
        return [{"ok": False, "text": t("photo.unreadable")}]
    if size is not None:
        width, height = size
        big = width >= PHOTO_MIN_PIXELS[0] and height >= PHOTO_MIN_PIXELS[1]
        shaped = abs(width / height - PHOTO_ASPECT) <= PHOTO_ASPECT * PHOTO_ASPECT_TOLERANCE
        checks.append({"ok": big, "text": t("photo.size_ok" if big else "photo.size_bad", w=width, h=height)})
        checks.append({"ok": shaped, "text": t("photo.aspect_ok" if shaped else "photo.aspect_bad")})
    taken = forms.parse_date(captured) if captured else None
    if taken is not None:
        since = forms.oldest_photo_date(today_)
        fresh = since <= taken <= today_
        checks.append(
            {
                "ok": fresh,
                "text": t(
                    "photo.age_ok" if fresh else "photo.age_bad", date=taken.isoformat(), since=since.isoformat()
                ),
            }
        )
    return checks


def image_size(content: bytes) -> tuple[int, int] | None:
    """An image's size from its header only (never decoded here), None if unreadable."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return (width, height) if width > 0 and height > 0 else None


@page("applicant")
async def document_upload(request: Request, account: Account) -> Response:
    """Upload one document with its details; the photo is previewed with its checks."""
    service = service_of(request)
    t = translator(request)
    application_id = request.path_params["application_id"]
    kind = request.path_params["kind"]
    if kind not in UPLOAD_KINDS:
        raise RecordNotFound("no such document kind")
    shown = await call(owned, service, account, application_id)
    current = latest(shown["documents"]).get(kind)
    base = f"/applications/{application_id}/documents"
    today_ = today(service)
    max_mb = megabytes(service.settings.max_upload_bytes)
    accept = ",".join(ALLOWED_TYPES.get(kind, DEFAULT_ALLOWED))

    def show(status: int, errors: dict[str, forms.FieldError], values: dict[str, Any]) -> Response:
        photo = None
        if kind == "photo" and current is not None:
            stored = service.storage.get(current["sha256"])
            captured = str(current["meta"].get("captured", ""))
            photo = {"url": f"{base}/photo/file", "checks": photo_checks(t, stored, captured, today_)}
        if current is not None and not values:
            meta = {k: str(v) for k, v in current["meta"].items()}
            values = {
                "id_type": meta.get("type", ""),
                "id_number": meta.get("number", ""),
                "id_expiry": meta.get("expiry", ""),
            }
            values |= {k: meta.get(k, "") for k in ("captured", "signed_by")}
        return render(
            request,
            "document_upload.html",
            status=status,
            errors=errors,
            values=values,
            kind=kind,
            photo=photo,
            current=None if current is None else current["meta"].get("filename"),
            action=f"{base}/{kind}",
            back_url=base,
            accept=accept,
            max_mb=max_mb,
        )

    if request.method == "GET":
        return await run_in_threadpool(show, 200, {}, {})
    if shown["state"] not in EDITABLE:
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    form = await form_of(request, oversize_ok=True, files=True)
    checked, meta = forms.check_document_meta(kind, form, today_)
    errors = dict(checked.errors)
    if form.get(TOO_LARGE_FIELD):  # the file went over the body limit: the fields typed are kept
        errors["file"] = ("v.file_too_large", {"mb": max_mb})
        return await run_in_threadpool(show, 413, errors, checked.values)
    upload = form.get("file")
    content = b""
    if isinstance(upload, UploadFile):
        content = await upload.read(service.settings.max_upload_bytes + 1)
    if not content:
        errors["file"] = ("v.file_missing", {})
    elif len(content) > service.settings.max_upload_bytes:  # over the limit, under the body cap
        errors["file"] = ("v.file_too_large", {"mb": max_mb})
        return await run_in_threadpool(show, 413, errors, checked.values)
    elif sniff(content) not in ALLOWED_TYPES.get(kind, DEFAULT_ALLOWED):
        errors["file"] = ("v.photo_type" if kind == "photo" else "v.file_type", {})
    elif kind == "photo":
        size = image_size(content)
        if size is None:
            errors["file"] = ("photo.unreadable", {})
        else:
            width, height = size
            found = []
            if width < PHOTO_MIN_PIXELS[0] or height < PHOTO_MIN_PIXELS[1]:
                found.append(t("photo.size_bad", w=width, h=height))
            if abs(width / height - PHOTO_ASPECT) > PHOTO_ASPECT * PHOTO_ASPECT_TOLERANCE:
                found.append(t("photo.aspect_bad"))
            if found:
                errors["file"] = ("v.text", {"text": " · ".join(found)})
    if errors:
        return await run_in_threadpool(show, 400, errors, checked.values)
    assert isinstance(upload, UploadFile)
    try:
        upload_checked = check_upload(
            kind,
            content,
            filename=upload.filename or "document",
            declared_type=upload.content_type,
            meta=meta,
            max_bytes=service.settings.max_upload_bytes,
            today=today_,
        )
    except UploadRefused as exc:
        errors["file"] = ("v.file_refused", {"detail": exc.message})
        return await run_in_threadpool(show, 400, errors, checked.values)
    record = {
        **upload_checked.meta,
        "media_type": upload_checked.media_type,
        "filename": upload_checked.filename,
        "size": upload_checked.size,
    }

    def store() -> None:
        service.storage.put(content)
        service.registry.attach(application_id, kind, record, content, actor=account.actor)

    await run_in_threadpool(store)
    if kind == "photo":
        return RedirectResponse(f"{base}/photo", status_code=303)
    return RedirectResponse(base, status_code=303)


@page()
async def document_file(request: Request, account: Account) -> Response:
    """The newest file of one kind, to its applicant and to staff only (never cached)."""
    service = service_of(request)
    kind = request.path_params["kind"]
    if kind not in DOCUMENT_KINDS:
        raise RecordNotFound("no such document")
    shown = await call(visible, service, account, request.path_params["application_id"])
    if shown["applicant"] != account.actor and account.role != "reviewer":
        raise RecordNotFound("no such document")  # files go to their applicant and reviewers only
    document = latest(shown["documents"]).get(kind)
    if document is None or kind == "fee_payment":
        raise RecordNotFound("no such document")
    content = await call(service.storage.get, document["sha256"])
    media_type = str(document["meta"].get("media_type", "application/octet-stream"))
    disposition = "inline" if media_type.startswith("image/") else "attachment"
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": disposition, "cache-control": "no-store, private"},
    )
