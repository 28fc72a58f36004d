"""Shared pieces of the issuer-service tests (no tests here): a live uvicorn server on a free
127.0.0.1 port, an HTTP client that follows the CSRF protocol, the wallet side of the issuance
protocol, and valid documents."""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import uvicorn
from PIL import Image
from starlette.routing import BaseRoute

from tests.conftest import reference_claims
from vcsdk import Ed25519PrivateKey
from vcsdk.holder.proof import make_key_proof
from vcsdk.keys import b64url_encode
from vcsdk.service import Settings, create_app
from vcsdk.service.core import Service

PASSWORD = "correct horse battery staple"
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


class MutableClock:
    """A clock the test moves; starts at the real time (key proofs need a plausible iat)."""

    def __init__(self) -> None:
        self.now = int(time.time())
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self.now

    def advance(self, seconds: int) -> None:
        with self._lock:
            self.now += seconds


def make_settings(folder: Path, database: str, *, port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": database,
        "base_url": f"http://127.0.0.1:{port}",
        "issuer_id": "KR-MOIS",
        "issuer_key": Ed25519PrivateKey.generate(),
        "anchor_key": Ed25519PrivateKey.generate(),
        "session_secret": secrets.token_bytes(32),
        "data_dir": folder,
        "max_upload_bytes": 300_000,
        "republish_interval": 3600,
        "argon2_time_cost": 1,  # fast tests; production keeps the RFC 9106 defaults
        "argon2_memory_kib": 8192,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class LiveServer:
    base: str
    settings: Settings
    clock: MutableClock
    service: Service = field(repr=False)
    server: uvicorn.Server = field(repr=False)
    service_routes: list[BaseRoute] = field(repr=False, default_factory=list)

    def staff(self, username: str, role: str = "operator") -> Client:
        """An operator (made as the CLI does) or a reviewer (made by an operator over HTTP), signed in."""
        if role == "operator":
            self.service.accounts.create(username, PASSWORD, "operator", created_by="test")
        else:
            operator_name = f"op-{secrets.token_hex(3)}"
            operator = self.staff(operator_name)
            made = operator.post("/api/staff", {"username": username, "password": PASSWORD, "role": role})
            assert made.status_code == 201, made.text
            operator.close()
        return signed_in(self.base, username, register=False)


def free_socket() -> Any:
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_server(folder: Path, database: str, *, schedule: bool = False, **overrides: Any) -> Iterator[LiveServer]:
    """uvicorn serving a fresh app on a socket bound to 127.0.0.1:0 (the OS picks the port)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    clock = MutableClock()
    settings = make_settings(folder, database, port=port, **overrides)
    app = create_app(settings, clock=clock, schedule=schedule)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, clock, app.state.service, server, list(app.routes))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class Client:
    """A browser-like API client: keeps cookies and sends the CSRF token it was given."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.csrf = ""
        self.refresh_csrf()

    def refresh_csrf(self) -> None:
        self.csrf = self.http.get("/api/session").json()["csrf_token"]

    def _headers(self, csrf: bool) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf} if csrf else {}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: Any = None, *, csrf: bool = True, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers(csrf), **kwargs.pop("headers", {})}
        if data is not None:
            kwargs["json"] = data
        return self.http.post(path, headers=headers, **kwargs)

    def register(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return self.post("/api/accounts", {"username": username, "password": password})

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post("/api/session", {"username": username, "password": password})
        if response.status_code == 200:
            self.csrf = response.json()["csrf_token"]
        return response

    def close(self) -> None:
        self.http.close()


def signed_in(base: str, username: str, *, register: bool = True) -> Client:
    client = Client(base)
    if register:
        assert client.register(username).status_code == 201
    assert client.login(username).status_code == 200
    return client


def photo_png(width: int = 350, height: int = 450) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (235, 235, 240)).save(out, format="PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def documents(today: datetime, *, fee: int = 10_000) -> list[tuple[str, str, bytes, str, dict[str, Any]]]:
    """(kind, filename, content, media type, meta) of a complete application."""
    captured = (today - timedelta(days=30)).date().isoformat()
    expiry = (today + timedelta(days=3650)).date().isoformat()
    identity: dict[str, Any] = {"type": "resident_card", "number": "880417-1", "expiry": expiry}
    fee_meta: dict[str, Any] = {"amount": fee, "method": "card", "receipt": "R-1"}
    return [
        ("identity_document", "resident-card.pdf", PDF, "application/pdf", identity),
        ("photo", "photo.png", photo_png(), "image/png", {"captured": captured}),
        ("position_certificate", "position.pdf", PDF + b"pos", "application/pdf", {}),
        ("recommendation", "recommendation.pdf", PDF + b"rec", "application/pdf", {"signed_by": "Director PARK"}),
        ("fee_payment", "receipt.pdf", PDF + b"fee", "application/pdf", fee_meta),
    ]


def upload(
    client: Client, application_id: str, kind: str, name: str, content: bytes, media: str, meta: dict[str, Any]
) -> httpx.Response:
    return client.http.post(
        f"/api/applications/{application_id}/documents",
        data={"kind": kind, "meta": json.dumps(meta), "csrf_token": client.csrf},
        files={"file": (name, content, media)},
    )


def apply_complete(client: Client, now: int, *, employee_id: str = "2019-174-00123") -> str:
    """Create an application with every document; returns its id (state draft)."""
    claims = reference_claims()
    for optional in ("photo_digest", "name_latin", "unit", "position"):
        # a bound credential must fit the QR budget; main still applies the unbound budget
        # (version 18) to bound credentials, which the full reference ID with cnf exceeds
        claims.pop(optional, None)
    claims["employee_id"] = employee_id
    created = client.post("/api/applications", {"claims": claims, "contact": "minjun.kim@example.go.kr"})
    assert created.status_code == 201, created.text
    application_id = str(created.json()["id"])
    for kind, name, content, media, meta in documents(datetime.fromtimestamp(now, tz=UTC)):
        response = upload(client, application_id, kind, name, content, media, meta)
        assert response.status_code == 201, response.text
    return application_id


# ------------------------------------------------------------------ the wallet side of the protocol


def offer_code(offer_uri: str, base: str) -> str:
    """Resolve a by-reference offer URI and return its pre-authorized code."""
    query = parse_qs(urlparse(offer_uri).query)
    reference = query["credential_offer_uri"][0]
    assert reference.startswith(base + "/offers/")
    offer = httpx.get(reference, timeout=30).json()
    assert offer["credential_issuer"] == base
    assert offer["credential_configuration_ids"] == ["KR-GOV-OfficialID"]
    return str(offer["grants"][PRE_AUTH]["pre-authorized_code"])


def token(base: str, code: str, tx_code: str) -> httpx.Response:
    return httpx.post(
        base + "/token",
        data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": tx_code},
        timeout=30,
    )


def proof(base: str, device: Ed25519PrivateKey, now: int) -> str:
    nonce = httpx.post(base + "/nonce", timeout=30).json()["c_nonce"]
    return b64url_encode(make_key_proof(device, audience=base, nonce=nonce, issued_at=now))


def credential(base: str, access_token: str, proof_text: str) -> httpx.Response:
    return httpx.post(
        base + "/credential",
        json={"credential_configuration_id": "KR-GOV-OfficialID", "proofs": {"cwt": [proof_text]}},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )


def redeem(base: str, offer: dict[str, Any], device: Ed25519PrivateKey, now: int) -> str:
    """The whole wallet side: offer -> token -> nonce -> proof -> credential; returns GID1 text."""
    code = offer_code(offer["offer_uri"], base)
    granted = token(base, code, offer["tx_code"])
    assert granted.status_code == 200, granted.text
    issued = credential(base, granted.json()["access_token"], proof(base, device, now))
    assert issued.status_code == 200, issued.text
    text = str(issued.json()["credentials"][0]["credential"])
    assert text.startswith("GID1:")
    return text
