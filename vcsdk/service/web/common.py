"""The web pages' plumbing: the ``page`` decorator, error pages, the resume note, the
agency list and the helpers the handlers share. Every handler runs the service in the thread pool,
renders one template, and turns a person's mistakes into an error summary with the input kept.
Another person's application answers 404, exactly like a missing one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import (
    AccessDenied,
    AuthenticationRequired,
    CSRFTokenInvalid,
    RecordNotFound,
    ReviewerConflict,
    UploadRefused,
    UsageError,
    VCError,
)
from ..accounts import Account
from ..core import Service
from ..http import LOGGER, TOO_LARGE_FIELD, BodyTooLarge, check_csrf, current_account, read_form
from .render import render, translator

Handler = Callable[[Request], Awaitable[Response]]
UPLOAD_KINDS = ("identity_document", "photo", "position_certificate", "recommendation")
REVIEW_STATES = ("submitted", "resubmitted", "under_review")
EDITABLE = ("draft", "more_documents_requested")
REFRESH_DAYS = 90
"""The wallet refreshes a credential about every 3 months (the seed's "every 3-6 months")."""
RESUME_TTL = 3600
RESUMABLE = re.compile(r"/applications/(new|[0-9a-f-]{36}/edit)")
MESSAGES = ("submit.done", "submit.already", "lost.done", "admin.published_now")


# ------------------------------------------------------------------ plumbing


def agencies(service: Service, lang: str) -> dict[int, str]:
    """Agency code -> name in the page language, the agencies offered now (operators edit them;
    the claim always carries the Korean name)."""
    return service.agencies.offered(lang)


def korean_agencies(service: Service) -> dict[int, str]:
    """Agency code -> Korean name, for the claims."""
    return agencies(service, "ko")


def fee_of(service: Service, code: int) -> int:
    """The agency's fee in KRW (it may be 0)."""
    return service.agencies.fee_of(code)


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
            except BodyTooLarge:
                raise  # the body-limit middleware answers with this page's form
            except UploadRefused as exc:
                return error_page(request, 413, t("error.generic"), f"{exc.code.value}: {exc.message}")
            except VCError as exc:
                return error_page(request, 400, t("error.generic"), f"{exc.code.value}: {exc.message}")
            except Exception as exc:  # a page, not a traceback; the type only goes to the log
                LOGGER.error("page failed", extra={"fields": {"error": type(exc).__name__, "page": handler.__name__}})
                return error_page(request, 500, t("error.generic"), t("error.internal"))

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    return wrap


async def form_of(request: Request, *, oversize_ok: bool = False, files: bool = False) -> FormData:
    """The request's form (bounded: a few fields, one file).

    A form the body-limit middleware cut (over the limit, :data:`TOO_LARGE_FIELD` set) is refused
    with ``UPLOAD_REFUSED`` unless the page shows such a form back itself (``oversize_ok``): the
    fields salvaged from it must never carry out an action. Only a page that takes a file
    (``files``) accepts ``multipart/form-data``: Starlette decodes multipart text that is not
    UTF-8 as Latin-1, so every other page takes urlencoded forms only (``USAGE_ERROR``), whose
    text :func:`read_form` checks."""
    form = await read_form(request, max_files=1, max_fields=20)
    if form.get(TOO_LARGE_FIELD) and not oversize_ok:
        raise UploadRefused("the request body is larger than the service accepts")
    if not files and request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UsageError("this form takes no file: send it as application/x-www-form-urlencoded")
    return form


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


def safe_next(value: str) -> str:
    """A local path to go back to after signing in ("" for anything else: another site, a
    scheme, or characters browsers drop, which could turn "/<tab>/x" into "//x")."""
    if not re.fullmatch(r"/[A-Za-z0-9/_\-]{0,300}", value) or value.startswith("//"):
        return ""
    return value


def client_of(request: Request) -> str:
    """The client address for sign-in throttling."""
    return request.client.host if request.client is not None else "unknown"
