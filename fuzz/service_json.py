"""The ``service_json`` fuzz target: the issuer service's JSON endpoints, driven in-process.

Every route of the JSON API (``/api/...``), the wallet endpoints (``/token``, ``/nonce``,
``/credential``, ``/wallet/refresh``, the offers and metadata) and the public files is called
through the real Starlette app -- middleware, sessions, CSRF, body limits, exception handlers --
by a minimal ASGI driver (no socket, no thread portal). The fuzzer's bytes choose the endpoint,
who is signed in, whether the CSRF token is sent, the content type, the path parameter, the
query string, an ``Authorization`` header and the body (:func:`request_of`).

The invariant of one request (:func:`check_response`): the app answers (never raises), with a
status below 500 (a redirect -- Starlette's trailing-slash one -- stays on the service); an
error (4xx) is a well-formed ``application/problem+json`` body whose ``code`` is one of the
SDK's stable codes and whose ``status`` is the HTTP status, or, on the wallet endpoints, an
OAuth error body whose ``error`` is one of the OAuth / OpenID4VCI error codes; a 2xx JSON
answer parses as JSON. Time and memory are bounded by ``fuzz.targets.run_one``.

The world is built once per process (:func:`world`): a SQLite registry in a temporary folder, the
fuzz world's keys and clock, one applicant with a draft application, a reviewer and an operator,
each with an open session.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import tempfile
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from vcsdk import Code, fixed_clock
from vcsdk.service import Settings, api, create_app, oid4vci, public
from vcsdk.service.accounts import Account
from vcsdk.service.core import Service
from vcsdk.service.http import CSRF_HEADER, SESSION_COOKIE, csrf_for_session

NOW = 1_780_000_000
PASSWORD = "fuzz horse battery staple"  # noqa: S105 - the fuzz world's throwaway accounts
SESSION_SECRET = bytes(range(200, 232))
IDENTITIES = ("anonymous", "applicant", "reviewer", "operator")
CONTENT_TYPES = (
    b"application/json",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=fuzzfuzz",
    None,
)
"""Bits 3-4 of the mode byte; ``None``: the fuzzer's header segment is the content type."""
OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_token",
        "insufficient_scope",
        "invalid_credential_request",
        "unsupported_credential_type",
        "unsupported_credential_format",
        "invalid_proof",
        "invalid_nonce",
        "invalid_encryption_parameters",
        "credential_request_denied",
    }
)
"""OAuth 2.0 (RFC 6749 §5.2, RFC 6750 §3.1) and OpenID4VCI error codes a wallet endpoint may answer."""
PROBLEM_CODES = frozenset(c.value for c in Code)
STAFF_ACTIONS = ("/suspend", "/reinstate", "/revoke")
"""Credential actions only an operator may take (the seeds send them as the operator)."""
REQUEST_SECONDS = 5.0
"""Wall-clock bound of one request inside the driver (a hang is an escape, not a stuck fuzzer)."""


class ServiceEscape(AssertionError):
    """The service broke the invariant on one request."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One route and method of the service."""

    method: str
    path: str
    """The template, e.g. ``/api/applications/{application_id}``."""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as the driver sends it."""

    method: str
    path: str
    query: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class Answer:
    """What the app answered."""

    status: int
    headers: dict[bytes, bytes]
    body: bytes


def endpoints() -> tuple[Endpoint, ...]:
    """Every JSON API, wallet and public route (not the HTML pages), in a stable order."""
    found: list[Endpoint] = []
    for route in [*api.routes(), *oid4vci.routes(), *public.routes()]:
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append(Endpoint(method, route.path))
    return tuple(found)


ENDPOINTS = endpoints()


@dataclass
class World:
    """The service the target talks to, and the sessions of its three signed-in users."""

    app: Starlette
    service: Service
    sessions: dict[str, str]
    accounts: dict[str, Account]
    application_id: str
    folder: Path
    loop: asyncio.AbstractEventLoop

    def session(self, role: str) -> str:
        """The open session of ``role`` (a fuzzed sign-out closes it: a new one is opened)."""
        if self.service.accounts.session_account(self.sessions[role]) is None:
            self.sessions[role] = self.service.accounts.open_session(self.accounts[role])
        return self.sessions[role]

    def close(self) -> None:
        self.service.close()
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_WORLD: World | None = None


def world() -> World:
    """The process's service world, built on first use."""
    global _WORLD
    if _WORLD is None:
        _WORLD = _build_world()
        atexit.register(_WORLD.close)
    return _WORLD


def _build_world() -> World:
    from fuzz.targets import ANCHOR, ISSUER, seed_claims

    folder = Path(tempfile.mkdtemp(prefix="vcsdk-fuzz-service-"))
    settings = Settings(
        database=str(folder / "registry.sqlite"),
        base_url="http://testserver",
        issuer_id="KR-MOIS",
        issuer_key=ISSUER,
        anchor_key=ANCHOR,
        session_secret=SESSION_SECRET,
        data_dir=folder / "data",
        max_upload_bytes=64 * 1024,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    app = create_app(settings, clock=fixed_clock(NOW), schedule=False, extra_routes=[])
    service: Service = app.state.service
    service.publisher.publish()  # what the app's startup does: the public files exist
    sessions: dict[str, str] = {}
    accounts: dict[str, Account] = {}
    for role in IDENTITIES[1:]:
        accounts[role] = service.accounts.create(f"fuzz-{role}", PASSWORD, role, created_by="fuzz")
        sessions[role] = service.accounts.open_session(accounts[role])
    claims = {k: v for k, v in seed_claims().items() if k != "photo_digest"}
    application_id = service.registry.apply(
        applicant=accounts["applicant"].actor, claims=claims, contact="fuzz@example.kr"
    )
    return World(app, service, sessions, accounts, application_id, folder, asyncio.new_event_loop())


def request_of(data: bytes, w: World) -> Request:
    """Map fuzzer bytes to a request.

    Byte 0 picks the endpoint (one past the last: a free path under ``/api/``, the path segment
    of the input). Byte 1, the mode: bits 0-1 who is signed in (:data:`IDENTITIES`), bit 2 send
    the session's CSRF token, bits 3-4 the content type (:data:`CONTENT_TYPES`), bit 5 send the
    header segment as ``Authorization``, bit 6 fill the path parameters with the applicant's
    real application id instead of the path segment. The rest is split at the first three
    newlines into path segment, query string, header segment and body.
    """
    pick = data[0] if data else 0
    mode = data[1] if len(data) > 1 else 0
    segment, query, header, body = [*data[2:].split(b"\n", 3), b"", b"", b""][:4]
    free = pick % (len(ENDPOINTS) + 1) == len(ENDPOINTS)
    if free:
        method, path = ("GET", "POST", "PUT", "DELETE")[pick >> 6], "/api/" + segment.decode("latin-1")
    else:
        endpoint = ENDPOINTS[pick % (len(ENDPOINTS) + 1)]
        value = w.application_id if mode & 0x40 else segment.decode("latin-1")
        method, path = endpoint.method, _fill(endpoint.path, value, segment)
    headers: list[tuple[bytes, bytes]] = [(b"host", b"testserver"), (b"content-length", str(len(body)).encode())]
    identity = IDENTITIES[mode & 3]
    if identity != "anonymous":
        token = w.session(identity)
        headers.append((b"cookie", f"{SESSION_COOKIE}={token}".encode()))
        if mode & 4:
            headers.append((CSRF_HEADER.encode(), csrf_for_session(SESSION_SECRET, token).encode()))
    content_type = CONTENT_TYPES[(mode >> 3) & 3]
    headers.append((b"content-type", header if content_type is None else content_type))
    if mode & 0x20:
        headers.append((b"authorization", header))
    return Request(method, path, query, tuple(headers), body)


def _fill(template: str, value: str, segment: bytes) -> str:
    """The path of ``template`` with every parameter set to ``value`` (an ``:int`` one: the
    segment's first two bytes as a number, so that routing always matches it)."""
    parts = template.split("{")
    out = parts[0]
    for part in parts[1:]:
        name, _, rest = part.partition("}")
        out += (str(int.from_bytes(segment[:2], "big")) if name.endswith(":int") else value) + rest
    return out


async def _send(app: Starlette, request: Request) -> Answer:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode("latin-1"),
        "root_path": "",
        "query_string": request.query,
        "headers": list(request.headers),
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        return {"type": "http.disconnect"}

    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            if started:
                raise ServiceEscape("the app started two responses")
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await asyncio.wait_for(app(scope, receive, send), REQUEST_SECONDS)
    if not started:
        raise ServiceEscape("the app sent no response")
    headers = {bytes(k).lower(): bytes(v) for k, v in started.get("headers", [])}
    return Answer(int(started["status"]), headers, b"".join(chunks))


def call(request: Request, w: World | None = None) -> Answer:
    """Send one request through the app; an exception out of the app is an escape."""
    w = w or world()
    try:
        return w.loop.run_until_complete(_send(w.app, request))
    except ServiceEscape:
        raise
    except TimeoutError as exc:
        raise ServiceEscape(f"{request.method} {request.path}: no answer in {REQUEST_SECONDS} s") from exc
    except Exception as exc:
        raise ServiceEscape(f"{request.method} {request.path}: the app raised {exc!r}") from exc


def check_response(request: Request, answer: Answer) -> str:
    """The invariant of one answer; returns its code (``"2xx"`` etc. for a success)."""
    where = f"{request.method} {request.path} -> {answer.status}"
    if not 200 <= answer.status < 500:
        raise ServiceEscape(f"{where}: status outside 2xx-4xx: {answer.body[:200]!r}")
    content_type = answer.headers.get(b"content-type", b"").split(b";")[0].strip()
    if 300 <= answer.status < 400:
        location = answer.headers.get(b"location", b"")
        if not location.startswith((b"http://testserver/", b"/")) or location.startswith(b"//"):
            raise ServiceEscape(f"{where}: a redirect off the service: {location!r}")
    if answer.status < 400:
        if content_type in (b"application/json", b"application/problem+json"):
            _json(where, answer.body)
        return f"{answer.status // 100}xx"
    body = _json(where, answer.body)
    if not isinstance(body, dict):
        raise ServiceEscape(f"{where}: an error body that is not a JSON object")
    if content_type == b"application/problem+json":
        code = body.get("code")
        if code not in PROBLEM_CODES or body.get("status") != answer.status or not isinstance(body.get("detail"), str):
            raise ServiceEscape(f"{where}: a malformed problem: {body!r}")
        return str(code)
    if content_type == b"application/json" and body.get("error") in OAUTH_ERRORS:
        return str(body["error"])
    raise ServiceEscape(f"{where}: an error without a stable code ({content_type!r}): {body!r}")


def _json(where: str, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ServiceEscape(f"{where}: the body is not JSON: {raw[:200]!r}") from exc


def fuzz_service_json(data: bytes) -> str:
    """One fuzzed request through the service app, under the service invariant."""
    w = world()
    request = request_of(data, w)
    return check_response(request, call(request, w))


def seeds() -> list[bytes]:
    """One valid-looking request per endpoint, signed in as the applicant with the CSRF token."""
    from fuzz.targets import seed_claims

    claims = {k: v for k, v in seed_claims().items() if k != "photo_digest"}
    bodies: dict[str, bytes] = {
        "/api/session": json.dumps({"username": "fuzz-applicant", "password": PASSWORD}).encode(),
        "/api/accounts": json.dumps({"username": "someone-new", "password": PASSWORD}).encode(),
        "/api/staff": json.dumps({"username": "new-reviewer", "password": PASSWORD, "role": "reviewer"}).encode(),
        "/api/applications": json.dumps({"claims": claims, "contact": "me@example.kr"}).encode(),
        "/token": b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
        b"&pre-authorized_code=abc&tx_code=123456",
        "/credential": json.dumps({"proofs": {"cwt": ["AAAA"]}, "credential_configuration_id": "gid"}).encode(),
        "/wallet/refresh": json.dumps({"credential": "GID1:ABC", "proof": "AAAA"}).encode(),
    }
    out: list[bytes] = []
    for index, endpoint in enumerate(ENDPOINTS):
        body = bodies.get(endpoint.path, b'{"reason": "missing document", "kinds": ["photo"]}')
        form = endpoint.path == "/token"
        role = 3 if endpoint.path.startswith("/api/staff") or endpoint.path.endswith(STAFF_ACTIONS) else 1
        role = 2 if endpoint.path.startswith("/api/reviews") else role
        mode = role | 0x04 | 0x40 | (0x08 if form else 0)
        if endpoint.path in ("/credential", "/wallet/refresh"):
            mode = 0x20 | 0x40  # anonymous, the bearer token in the header segment
        header = b"Bearer not-a-token" if mode & 0x20 else b""
        segment = b"\x00\x00" if ":int" in endpoint.path else b"1"
        out.append(bytes([index, mode]) + segment + b"\n\n" + header + b"\n" + body)
    multipart = (
        b'--fuzzfuzz\r\nContent-Disposition: form-data; name="kind"\r\n\r\nphoto\r\n'
        b'--fuzzfuzz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--fuzzfuzz--\r\n"
    )
    upload = next(i for i, e in enumerate(ENDPOINTS) if e.path.endswith("/documents") and e.method == "POST")
    out.append(bytes([upload, 0x01 | 0x04 | 0x40 | 0x10]) + b"\n\n\n" + multipart)
    out.append(bytes([len(ENDPOINTS), 0x01]) + b"no/such/thing\nx=1\n\n")
    return out
