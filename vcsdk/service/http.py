"""HTTP glue shared by the JSON API and the HTML pages: sessions, CSRF, body limits, access logs.

For page authors (``vcsdk.service.web``):

* :func:`current_account` -- the signed-in :class:`~vcsdk.service.accounts.Account` or None.
* :func:`require` -- the account if it has one of the roles, else a problem (401/403).
* :func:`csrf_token` -- the token to put in every form as ``<input type="hidden"
  name="csrf_token">`` (or send as the ``X-CSRF-Token`` header).
* :func:`check_csrf` -- await it first in every state-changing handler; it reads the header or
  the form field and raises ``CSRF_TOKEN_INVALID``.
* :func:`start_session` / :func:`end_session` -- sign a user in or out on a response.
* :func:`service_of` -- the :class:`~vcsdk.service.core.Service` (registry, accounts, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import CSRFTokenInvalid, UsageError
from .accounts import Account, require_role
from .problems import problem

if TYPE_CHECKING:
    from .core import Service

SESSION_COOKIE = "vcsdk_session"
CSRF_COOKIE = "vcsdk_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FORM_MAX_FILES = 4
FORM_MAX_FIELDS = 100
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGGER = logging.getLogger("vcsdk.service")


def service_of(request: Request) -> Service:
    """The service behind this app."""
    return cast("Service", request.app.state.service)


def current_account(request: Request) -> Account | None:
    """The signed-in account, None for an anonymous request."""
    return cast("Account | None", request.state.account)


def require(request: Request, *roles: str) -> Account:
    """The signed-in account if it has one of ``roles`` (any role when none given)."""
    return require_role(current_account(request), *roles)


def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page (bound to the session, or to the anonymous cookie)."""
    return cast(str, request.state.csrf_token)


def csrf_for_session(secret: bytes, session_token: str) -> str:
    """The CSRF token of a session: HMAC-SHA256(secret, session token), hex."""
    return hmac.new(secret, b"csrf:" + session_token.encode("utf-8"), hashlib.sha256).hexdigest()


async def read_form(
    request: Request, *, max_files: int = FORM_MAX_FILES, max_fields: int = FORM_MAX_FIELDS
) -> FormData:
    """The request's form, parsed once. An urlencoded body whose names or values are not UTF-8
    (raw bytes or percent escapes) is refused with ``USAGE_ERROR``: Starlette would decode such
    bytes as Latin-1 or U+FFFD and the page would store mojibake."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        try:
            for pair in body.split(b"&"):
                for part in pair.split(b"=", 1):
                    unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the form is not UTF-8 text") from None
    return await request.form(max_files=max_files, max_fields=max_fields)


async def check_csrf(request: Request) -> None:
    """Refuse the request unless it carries this session's CSRF token (header or form field)."""
    expected = csrf_token(request)
    given = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if given is None and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await read_form(request)).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CSRFTokenInvalid("the form is missing its CSRF token or it does not match this session")


def _cookie(name: str, value: str, *, secure: bool, max_age: int | None) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString()


async def start_session(request: Request, response: Response, account: Account) -> str:
    """Sign ``account`` in: a new session and its HttpOnly cookie on ``response``; returns the new
    CSRF token (the anonymous one is no longer valid)."""
    service = service_of(request)
    token = await run_in_threadpool(service.accounts.open_session, account)
    response.headers.append(
        "set-cookie",
        _cookie(SESSION_COOKIE, token, secure=service.settings.secure_cookies, max_age=service.settings.session_ttl),
    )
    request.state.account = account
    request.state.csrf_token = csrf_for_session(service.settings.session_secret, token)
    return cast(str, request.state.csrf_token)


async def end_session(request: Request, response: Response) -> None:
    """Sign out: the session is deleted and its cookie cleared."""
    service = service_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(service.accounts.close_session, token)
    response.headers.append(
        "set-cookie", _cookie(SESSION_COOKIE, "", secure=service.settings.secure_cookies, max_age=0)
    )


class SessionMiddleware:
    """Loads the session's account into ``request.state`` and keeps the anonymous CSRF cookie."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        state = scope.setdefault("state", {})
        token = request.cookies.get(SESSION_COOKIE, "")
        account = await run_in_threadpool(self.service.accounts.session_account, token) if token else None
        state["account"] = account
        new_cookie = None
        if account is not None:
            state["csrf_token"] = csrf_for_session(self.service.settings.session_secret, token)
        else:
            anonymous = request.cookies.get(CSRF_COOKIE, "")
            if len(anonymous) < 32 or len(anonymous) > 64:
                anonymous = secrets.token_urlsafe(32)
                new_cookie = _cookie(CSRF_COOKIE, anonymous, secure=self.service.settings.secure_cookies, max_age=None)
            state["csrf_token"] = anonymous

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and new_cookie is not None:
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", new_cookie.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class BodyLimitMiddleware:
    """Refuses request bodies larger than ``limit`` bytes (declared or streamed) with 413.

    The JSON API answers problem+json. A web form (multipart, outside ``/api/``) is answered by
    its own page instead: the body is drained (up to :data:`DRAIN_CAP`), the text fields that
    came before the file (the form puts the file last) are kept, and the page handler gets those
    fields plus :data:`TOO_LARGE_FIELD` and no file, so it shows the form again with a clear
    message and everything typed still there."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        web_form = (
            scope.get("method") == "POST"
            and not str(scope.get("path", "")).startswith("/api/")
            and headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        )
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            if web_form and declared.isdigit():
                await self._salvage(scope, receive, send, b"")
            else:
                await _too_large(scope, receive, send, self.limit)
            return
        seen = 0
        prefix = bytearray()

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                seen += len(body)
                if web_form and len(prefix) < SALVAGE_PREFIX:
                    prefix.extend(body[: SALVAGE_PREFIX - len(prefix)])
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            if web_form:
                await self._salvage(scope, receive, send, bytes(prefix))
            else:
                await _too_large(scope, receive, send, self.limit)

    async def _salvage(self, scope: Scope, receive: Receive, send: Send, prefix: bytes) -> None:
        """Drain the rest of the body, then run the page with the fields found in its start."""
        kept = bytearray(prefix)
        drained = len(prefix)
        more = True
        while more and drained <= DRAIN_CAP:
            message = await receive()
            if message["type"] != "http.request":
                break
            body = message.get("body", b"")
            drained += len(body)
            if len(kept) < SALVAGE_PREFIX:
                kept.extend(body[: SALVAGE_PREFIX - len(kept)])
            more = bool(message.get("more_body", False))
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        boundary = _boundary(content_type)
        if boundary is None:
            await _too_large(scope, receive, send, self.limit)
            return
        fields = [*_text_parts(bytes(kept), boundary), (TOO_LARGE_FIELD, "1")]
        body = _multipart(fields, boundary)
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)


class QueryStringMiddleware:
    """Refuses a query string that is not UTF-8 with 400 (``USAGE_ERROR``).

    A conforming client percent-encodes its query, so raw non-UTF-8 bytes are never meant;
    Starlette decodes the query as UTF-8 whenever it builds the request's URL (the trailing-slash
    redirect, ``request.url``), and such bytes would end there as an internal error (500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                bytes(scope.get("query_string", b"")).decode("utf-8")
            except UnicodeDecodeError:
                response = problem(400, "USAGE_ERROR", "the query string is not UTF-8 text", title="Bad request")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


TOO_LARGE_FIELD = "_upload_too_large"
"""Set by :class:`BodyLimitMiddleware` on a web form whose file went over the size limit."""
SALVAGE_PREFIX = 64 * 1024
"""How much of an over-limit form body is searched for its text fields."""
DRAIN_CAP = 256 * 1024 * 1024
"""An over-limit form body is read and dropped up to this size, so the browser sees the answer
rather than a reset connection; beyond it the answer goes out at once."""


def _boundary(content_type: str) -> str | None:
    for item in content_type.split(";")[1:]:
        name, _, value = item.strip().partition("=")
        if name.lower() == "boundary":
            value = value.strip('"')
            if 0 < len(value) <= 70 and value.isascii():
                return value
    return None


def _text_parts(data: bytes, boundary: str, max_fields: int = 20) -> list[tuple[str, str]]:
    """The complete non-file parts of a multipart body's start, as (name, value)."""
    delimiter = b"--" + boundary.encode("ascii")
    out: list[tuple[str, str]] = []
    chunks = data.split(delimiter)
    for chunk in chunks[1:-1]:  # the last one may be cut off
        head, sep, value = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        disposition = next(
            (
                line
                for line in head.decode("utf-8", "replace").split("\r\n")
                if line.lower().startswith("content-disposition")
            ),
            "",
        )
        if "filename=" in disposition:
            continue
        match = re.search(r'\bname="([^"]{1,100})"', disposition)
        if match is None or match.group(1) == TOO_LARGE_FIELD:
            continue
        text = value.removesuffix(b"\r\n").decode("utf-8", "replace")
        out.append((match.group(1), text[:4096]))
        if len(out) >= max_fields:
            break
    return out


def _multipart(fields: list[tuple[str, str]], boundary: str) -> bytes:
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes the limit (handlers let it through)."""


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem(413, "UPLOAD_REFUSED", f"the request body is larger than {limit} bytes", title="Upload refused")
    await response(scope, receive, send)


class AccessLogMiddleware:
    """One JSON log line per request: method, route template, status, duration, account id.

    Never the raw path or query (they may hold codes), bodies, cookies or names."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def capture(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception as exc:
            LOGGER.error("unhandled", extra={"fields": {"error": type(exc).__name__}})
            if not response_started:
                response = problem(
                    500, "INTERNAL_ERROR", "the service failed; the error was logged", title="Internal error"
                )
                await response(scope, receive, capture)
        finally:
            route = scope.get("route")
            account = scope.get("state", {}).get("account")
            LOGGER.info(
                "request",
                extra={
                    "fields": {
                        "method": scope.get("method"),
                        "route": getattr(route, "path", None) or "unmatched",
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                        "account": None if account is None else account.id,
                        "request_id": uuid.uuid4().hex[:12],
                    }
                },
            )


class JSONFormatter(logging.Formatter):
    """Log records as one JSON object per line: time, level, logger, event and ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the type only: messages may hold input
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send ``vcsdk.service`` logs to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("vcsdk.service")
    if not any(isinstance(h.formatter, JSONFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JSONFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


Handler = Callable[[Request], Awaitable[Response]]
