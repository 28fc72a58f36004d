"""The HTML pages: applicant, reviewer and operator. Thin handlers over the service's objects.

Every handler runs the service (registry, accounts, storage, wallet) in the thread pool, renders
one template, and turns a person's mistakes into an error summary with the input kept. Another
person's application answers 404, exactly like a missing one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import (
    AccessDenied,
    AccountExists,
    AuthenticationRequired,
    CSRFTokenInvalid,
    LoginThrottled,
    QRSizeBudgetExceeded,
    RecordNotFound,
    RegistryTransitionRefused,
    ReviewerConflict,
    UploadRefused,
    UsageError,
    VCError,
)
from ...registry.workflow import DEFAULT_FEE_KRW, DOCUMENT_KINDS, PHOTO_ASPECT, PHOTO_ASPECT_TOLERANCE, PHOTO_MIN_PIXELS
from ..accounts import Account
from ..core import Service
from ..http import LOGGER, check_csrf, current_account, end_session, service_of, start_session
from ..uploads import ALLOWED_TYPES, DEFAULT_ALLOWED, check_upload, sniff
from . import forms, queries
from .render import HOME, render, translator, when

Handler = Callable[[Request], Awaitable[Response]]
UPLOAD_KINDS = ("identity_document", "photo", "position_certificate", "recommendation")
REVIEW_STATES = ("submitted", "resubmitted", "under_review")
EDITABLE = ("draft", "more_documents_requested")
REFRESH_DAYS = 90
"""The wallet refreshes a credential about every 3 months (the seed's "every 3-6 months")."""
RESUME_TTL = 3600
RESUMABLE = re.compile(r"/applications/(new|[0-9a-f-]{36}/edit)")
AGENCIES: dict[int, tuple[str, str]] = {
    1741000: ("행정안전부", "Ministry of the Interior and Safety"),
    1051000: ("기획재정부", "Ministry of Economy and Finance"),
    1270000: ("법무부", "Ministry of Justice"),
    1342000: ("교육부", "Ministry of Education"),
    1480000: ("환경부", "Ministry of Environment"),
}
"""Agencies offered in the form (any agency code in the fee table is offered too)."""
MESSAGES = ("submit.done", "submit.already", "lost.done", "admin.published_now")


# ------------------------------------------------------------------ plumbing


def agencies(service: Service, lang: str) -> dict[int, str]:
    """Agency code -> name in the page language (the claim always carries the Korean name)."""
    names = {code: (ko if lang == "ko" else en) for code, (ko, en) in AGENCIES.items()}
    for code in service.settings.fees:
        names.setdefault(int(code), str(code))
    return dict(sorted(names.items(), key=lambda item: item[1]))


def korean_agencies(service: Service) -> dict[int, str]:
    """Agency code -> Korean name, for the claims."""
    return agencies(service, "ko")


def fee_of(service: Service, code: int) -> int:
    """The agency's fee in KRW (it may be 0)."""
    return int(service.settings.fees.get(code, DEFAULT_FEE_KRW))


def today(service: Service) -> date:
    """Today (UTC) on the service clock."""
    return datetime.fromtimestamp(service.clock(), tz=UTC).date()


def login_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, coming back here afterwards."""
    return RedirectResponse("/login?next=" + quote(request.url.path, safe="/"), status_code=303)


def _sign(service: Service, payload: bytes) -> str:
    mac = hmac.new(service.settings.session_secret, b"resume:" + payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16] + payload).decode("ascii")


def resume_token(service: Service, path: str, values: dict[str, str]) -> str:
    """A signed note of a form a signed-out person sent, so that signing in again shows it back."""
    payload = json.dumps({"path": path, "values": values, "at": service.clock()}, ensure_ascii=False)
    return _sign(service, payload.encode("utf-8"))


def read_resume(service: Service, token: str) -> tuple[str, dict[str, str]] | None:
    """The path and values of a resume token, None if forged, broken or old."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    payload = raw[16:]
    if len(token) > 8192 or not hmac.compare_digest(_sign(service, payload), token):
        return None
    data = json.loads(payload)
    if service.clock() - int(data["at"]) > RESUME_TTL:
        return None
    values = {str(k): str(v) for k, v in dict(data["values"]).items()}
    return str(data["path"]), values


def error_page(request: Request, status: int, heading: str, message: str) -> Response:
    """A page for what a form cannot fix (not found, not allowed, expired form)."""
    return render(request, "error.html", status=status, heading=heading, message=message)


def page(*roles: str, csrf: bool = True) -> Callable[[Callable[[Request, Account], Awaitable[Response]]], Handler]:
    """A handler that needs a signed-in account with one of ``roles`` (any role when none).

    Signed out: GET goes to the sign-in page; a POST too (forms that can resume do it themselves).
    A POST must carry the session's CSRF token. Errors become pages, never tracebacks."""

    def wrap(handler: Callable[[Request, Account], Awaitable[Response]]) -> Handler:
        async def run(request: Request) -> Response:
            account = current_account(request)
            if account is None:
                return login_redirect(request)
            t = translator(request)
            try:
                if roles and account.role not in roles:
                    raise AccessDenied("role")
                if csrf and request.method == "POST":
                    await check_csrf(request)
                return await handler(request, account)
            except RecordNotFound:
                return error_page(request, 404, t("error.not_found"), t("error.not_found_text"))
            except (AccessDenied, ReviewerConflict):
                return error_page(request, 403, t("error.forbidden"), t("error.forbidden_text"))
            except CSRFTokenInvalid:
                return error_page(request, 400, t("error.csrf"), t("error.csrf_text"))
            except AuthenticationRequired:
                return login_redirect(request)
            except VCError as exc:
                return error_page(request, 400, t("error.generic"), f"{exc.code.value}: {exc.message}")
            except Exception as exc:  # a page, not a traceback; the type only goes to the log
                LOGGER.error("page failed", extra={"fields": {"error": type(exc).__name__, "page": handler.__name__}})
                return error_page(request, 500, t("error.generic"), t("error.internal"))

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    return wrap


async def form_of(request: Request) -> FormData:
    """The request's form (bounded: a few fields, one file)."""
    return await request.form(max_files=1, max_fields=20)


def text(form: FormData, name: str) -> str:
    """A text field of a form ("" when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking service call in the thread pool."""
    return await run_in_threadpool(lambda: function(*args, **kwargs))


def owned(service: Service, account: Account, application_id: str) -> dict[str, Any]:
    """The application if ``account`` opened it (404 otherwise, as for a missing one)."""
    try:
        shown = service.registry.show(application_id)
    except RecordNotFound:
        raise RecordNotFound("no such application") from None
    if shown["applicant"] != account.actor:
        raise RecordNotFound("no such application")
    return shown


def visible(service: Service, account: Account, application_id: str) -> dict[str, Any]:
    """The application if ``account`` opened it or is staff."""
    if not account.is_staff:
        return owned(service, account, application_id)
    try:
        return service.registry.show(application_id)
    except RecordNotFound:
        raise RecordNotFound("no such application") from None


def latest(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest document of each kind."""
    by_kind: dict[str, dict[str, Any]] = {}
    for document in documents:
        by_kind[document["kind"]] = document
    return by_kind


def problem_lines(t: Any, problems: list[str], kind: str | None = None) -> list[str]:
    """The registry's ``CODE: detail`` problems as sentences (only those of one document kind if given)."""
    kinds = {
        "DOCUMENT_MISSING": None,
        "IDENTITY": "identity_document",
        "PHOTO": "photo",
        "RECOMMENDATION": "recommendation",
        "FEE": "fee_payment",
    }
    out = []
    for line in problems:
        code, _, detail = line.partition(": ")
        owner = next((v for k, v in kinds.items() if code.startswith(k)), None)
        if code == "DOCUMENT_MISSING":
            owner = detail.strip()
            if kind is None:
                out.append(t("docs.missing") + ": " + t("doc." + owner))
            continue
        if kind is None or owner == kind:
            out.append(detail or code)
    return out


def doc_rows(t: Any, application_id: str, shown: dict[str, Any], kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each required document: missing or received, its problems, where to upload it."""
    by_kind = latest(shown["documents"])
    rows = []
    for kind in kinds:
        document = by_kind.get(kind)
        rows.append(
            {
                "kind": kind,
                "state": "missing" if document is None else "received",
                "problems": [] if document is None else problem_lines(t, shown["problems"], kind),
                "url": f"/applications/{application_id}/documents/{kind}",
            }
        )
    return rows


def flash_of(request: Request) -> tuple[str, str] | None:
    """A message named in ``?msg=`` (only the known ones)."""
    key = request.query_params.get("msg")
    if key not in MESSAGES:
        return None
    kind = "success" if key in ("submit.done", "admin.published_now") else "warning"
    return kind, translator(request)(str(key))


# ------------------------------------------------------------------ home, sign-up, sign-in


async def home(request: Request) -> Response:
    """The start page (signed-in people go to their own start)."""
    account = current_account(request)
    if account is not None:
        return RedirectResponse(HOME.get(account.role, "/applications"), status_code=303)
    return render(request, "home.html")


async def signup(request: Request) -> Response:
    """Create an applicant account and sign in."""
    service = service_of(request)
    if request.method == "GET":
        return render(request, "signup.html")
    t = translator(request)
    try:
        await check_csrf(request)
    except CSRFTokenInvalid:
        return error_page(request, 400, t("error.csrf"), t("error.csrf_text"))
    form = await form_of(request)
    checked = forms.check_signup(form)
    errors = dict(checked.errors)
    account: Account | None = None
    if checked.ok:
        try:
            account = await call(
                service.accounts.create,
                checked.values["username"],
                text(form, "password"),
                "applicant",
                created_by="self",
            )
        except AccountExists:
            errors["username"] = ("v.username_taken", {})
        except UsageError:
            errors["username"] = ("v.username_bad", {})
    if account is None:
        return render(request, "signup.html", status=400, errors=errors, values=checked.values)
    response = RedirectResponse("/applications/new", status_code=303)
    await start_session(request, response, account)
    return response


async def login(request: Request) -> Response:
    """Sign in; a form sent after the session ended is shown back, as it was typed."""
    service = service_of(request)
    next_url = request.query_params.get("next", "")
    if request.method == "GET":
        return render(request, "login.html", next=safe_next(next_url), resume="")
    t = translator(request)
    try:
        await check_csrf(request)
    except CSRFTokenInvalid:
        return error_page(request, 400, t("error.csrf"), t("error.csrf_text"))
    form = await form_of(request)
    username, password, resume = text(form, "username"), text(form, "password"), text(form, "resume")
    next_url = safe_next(text(form, "next"))
    try:
        account = await call(service.accounts.authenticate, username, password, client=client_of(request))
    except LoginThrottled:
        errors: dict[str, forms.FieldError] = {"password": ("v.login_throttled", {})}
        return render(
            request,
            "login.html",
            status=429,
            errors=errors,
            values={"username": username},
            next=next_url,
            resume=resume,
        )
    except AuthenticationRequired:
        errors = {"password": ("v.login_failed", {})}
        return render(
            request,
            "login.html",
            status=400,
            errors=errors,
            values={"username": username},
            next=next_url,
            resume=resume,
        )
    resumed = read_resume(service, resume) if resume else None
    if resumed is not None and not RESUMABLE.fullmatch(resumed[0]):
        resumed = None
    if resumed is None:
        response: Response = RedirectResponse(next_url or HOME.get(account.role, "/applications"), status_code=303)
        await start_session(request, response, account)
        return response
    cookies = Response()
    await start_session(request, cookies, account)  # the page below needs the new session's CSRF token
    response = await resume_form(request, account, resumed[0], resumed[1])
    for value in cookies.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


def safe_next(value: str) -> str:
    """A local path to go back to after signing in ("" for anything else: another site, a
    scheme, or characters browsers drop, which could turn "/<tab>/x" into "//x")."""
    if not re.fullmatch(r"/[A-Za-z0-9/_\-]{0,300}", value) or value.startswith("//"):
        return ""
    return value


def client_of(request: Request) -> str:
    """The client address for sign-in throttling."""
    return request.client.host if request.client is not None else "unknown"


async def logout(request: Request) -> Response:
    """Sign out."""
    response = RedirectResponse("/", status_code=303)
    try:
        await check_csrf(request)
    except CSRFTokenInvalid:
        return response
    await end_session(request, response)
    return response


# ------------------------------------------------------------------ applicant: the form


async def resume_form(request: Request, account: Account, path: str, values: dict[str, str]) -> Response:
    """The application form again, after signing in, with what was typed before."""
    service = service_of(request)
    t = translator(request)
    flash = ("warning", t("login.resumed"))
    checked = forms.check_application(values, korean_agencies(service), today(service))
    return render(
        request,
        "apply_form.html",
        errors=checked.errors,
        values=checked.values,
        flash=flash,
        action=path,
        agencies=list(agencies(service, t.lang).items()),
        step=1,
    )


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


# ------------------------------------------------------------------ applicant: documents and fee


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
    max_mb = service.settings.max_upload_bytes // (1024 * 1024)
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
    form = await form_of(request)
    checked, meta = forms.check_document_meta(kind, form, today_)
    errors = dict(checked.errors)
    upload = form.get("file")
    content = b""
    if isinstance(upload, UploadFile):
        content = await upload.read(service.settings.max_upload_bytes + 1)
    if not content:
        errors["file"] = ("v.file_missing", {})
    elif len(content) > service.settings.max_upload_bytes:
        errors["file"] = ("v.file_large", {"mb": max_mb})
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


@page("operator")
async def admin_agencies(request: Request, account: Account) -> Response:
    """Agencies offered in the form and their fees."""
    service = service_of(request)
    t = translator(request)
    rows = [
        {"code": code, "name": name, "fee": fee_of(service, code)} for code, name in agencies(service, t.lang).items()
    ]
    return render(request, "admin_agencies.html", agencies=rows)


@page("operator")
async def admin_keys(request: Request, account: Account) -> Response:
    """Which key signs credentials and status lists, which signs the trust list."""
    settings = service_of(request).settings
    keys = [
        {"role": "issuer", "kid": settings.issuer_key.kid.hex(), "active": True},
        {"role": "anchor", "kid": settings.anchor_key.kid.hex(), "active": True},
    ]
    return render(request, "admin_keys.html", keys=keys, can_rotate=False)


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
