"""The service app's contracts: the published OpenAPI document, settings from TOML and
environment, problem responses, health and readiness, scheduled republication, ``vcsdk serve``."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from tests.test_service_kit import free_socket, live_server
from vcsdk import Ed25519PrivateKey
from vcsdk.errors import Code, KeyProofInvalid, UsageError
from vcsdk.keys.files import save_private_key
from vcsdk.service.openapi import api_routes
from vcsdk.service.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "openapi.json"


def test_the_published_openapi_document_is_current_and_complete(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", str(tmp_path / "r.sqlite")) as live:
        served = httpx.get(live.base + "/openapi.json", timeout=30).json()
        assert len(api_routes(list(live.service_routes))) >= 30
    assert served == json.loads(PUBLISHED.read_text(encoding="utf-8")), (
        "docs/openapi.json is out of date: regenerate it with "
        "python -c 'import tests.test_service_app as t; t.write_openapi()'"
    )
    assert served["openapi"].startswith("3.1")
    operations = [(path, method, op) for path, item in served["paths"].items() for method, op in item.items()]
    assert len(operations) >= 30
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    for path, method, op in operations:
        assert op["summary"] and op["responses"], (path, method)
        for name in re.findall(r"{(\w+)}", path):
            assert name in {p["name"] for p in op.get("parameters", [])}, (path, name)
        if path.startswith("/api/") and method != "get":
            assert {"session": [], "csrf": []} in op["security"], path
    for needed in ("/token", "/nonce", "/credential", "/wallet/refresh", "/status/{n}", "/bundle", "/trust-list"):
        assert needed in served["paths"], needed
    assert served["paths"]["/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    codes = {c.value for c in Code}
    assert "AUTHENTICATION_REQUIRED" in codes and "UPLOAD_REFUSED" in codes


def write_openapi() -> None:
    """Regenerate docs/openapi.json from the routes."""
    from vcsdk.service import api, oid4vci, public
    from vcsdk.service.openapi import build_openapi

    routes = [*api.routes(), *oid4vci.routes(), *public.routes()]

    async def openapi() -> None:
        """The OpenAPI document of this API."""

    routes.append(Route("/openapi.json", openapi, methods=["GET"]))
    PUBLISHED.write_text(json.dumps(build_openapi(list(routes)), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def test_problem_responses_and_health(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", str(tmp_path / "r.sqlite")) as live:
        missing = httpx.get(live.base + "/api/nothing-here", timeout=30)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        body = missing.json()
        assert set(body) >= {"type", "title", "status", "detail", "code"} and body["status"] == 404
        wrong_method = httpx.put(live.base + "/api/applications", timeout=30)
        assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "USAGE_ERROR"
        bad_json = httpx.post(
            live.base + "/api/accounts",
            content=b"{not json",
            headers={"X-CSRF-Token": "x" * 43, "Cookie": "vcsdk_csrf=" + "x" * 43},
            timeout=30,
        )
        assert bad_json.status_code == 400 and bad_json.json()["code"] == "USAGE_ERROR"
        assert httpx.get(live.base + "/healthz", timeout=30).json() == {"status": "ok"}
        ready = httpx.get(live.base + "/readyz", timeout=30)
        assert ready.status_code == 200 and ready.json()["database"] is True
        live.clock.advance(live.settings.status_validity + 1)  # the published files went stale
        try:
            assert httpx.get(live.base + "/readyz", timeout=30).status_code == 503
        finally:
            live.clock.advance(-(live.settings.status_validity + 1))
        headers = httpx.get(live.base + "/api/session", timeout=30).headers
        assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"


def test_files_are_republished_on_schedule_before_they_go_stale(tmp_path: Path) -> None:
    with live_server(
        tmp_path / "data", str(tmp_path / "r.sqlite"), schedule=True, status_ttl=100, republish_interval=1
    ) as live:
        first = httpx.get(live.base + "/trust-list", timeout=30)
        assert first.headers["cache-control"] == "public, max-age=100"
        live.clock.advance(50)  # half the ttl: due
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            second = httpx.get(live.base + "/trust-list", timeout=30)
            if second.headers["etag"] != first.headers["etag"]:
                break
            time.sleep(0.2)
        assert second.headers["etag"] != first.headers["etag"]
        bundle = httpx.get(live.base + "/bundle", timeout=30)
        assert bundle.status_code == 200
        manifest = live.service.publisher.manifest()
        assert manifest is not None and manifest["published_at"] == live.clock()


def test_settings_from_toml_and_environment(tmp_path: Path) -> None:
    issuer, anchor = tmp_path / "issuer.pem", tmp_path / "anchor.pem"
    save_private_key(issuer, Ed25519PrivateKey.generate(), b"pass phrase")
    save_private_key(anchor, Ed25519PrivateKey.generate(), b"pass phrase")
    config = tmp_path / "service.toml"
    config.write_text(
        "[service]\n"
        'database = "sqlite:///file.db"\nbase_url = "https://id.example.go.kr"\nissuer_id = "KR-MOIS"\n'
        f'data_dir = "{tmp_path}"\nstatus_ttl = 300\n'
        "[keys]\n"
        f'issuer_key = "{issuer}"\nanchor_key = "{anchor}"\n'
        "[fees]\n1741000 = 5000\n"
        "[uploads]\nmax_bytes = 1000000\n",
        encoding="utf-8",
    )
    env = {"VCSDK_SESSION_SECRET": "s" * 40, "VCSDK_KEY_PASSPHRASE": "pass phrase", "VCSDK_STATUS_TTL": "120"}
    settings = load_settings(config, env=env)
    assert settings.status_ttl == 120  # the environment wins
    assert settings.fees == {1741000: 5000} and settings.max_upload_bytes == 1_000_000
    assert settings.status_uri_template == "https://id.example.go.kr/status/{n}"
    assert "s" * 40 not in repr(settings) and "PRIVATE" not in repr(settings)
    with pytest.raises(UsageError, match="session secret"):
        load_settings(config, env={"VCSDK_KEY_PASSPHRASE": "pass phrase"})
    with pytest.raises(UsageError):
        load_settings(config, env={**env, "VCSDK_KEY_PASSPHRASE": "wrong"})
    config.write_text(config.read_text(encoding="utf-8").replace("status_ttl", "statsu_ttl"), encoding="utf-8")
    with pytest.raises(UsageError, match="statsu_ttl"):
        load_settings(config, env=env)
    with pytest.raises(UsageError, match="trailing slash"):
        load_settings(None, env={**env, "VCSDK_DATABASE": "x", "VCSDK_BASE_URL": "https://a/", "VCSDK_ISSUER_ID": "I",
                                 "VCSDK_DATA_DIR": str(tmp_path), "VCSDK_ISSUER_KEY": str(issuer),
                                 "VCSDK_ANCHOR_KEY": str(anchor)})  # fmt: skip


def test_vcsdk_serve_starts_a_trial_instance_and_prints_the_operator_password_once(tmp_path: Path) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # uvicorn binds it itself; the OS gave a free one
    database = tmp_path / "trial.sqlite"
    command = [sys.executable, "-m", "vcsdk_cli", "serve", "--db", str(database), "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for run in range(2):
        if run == 1:  # a restart on another port keeps the status-list URIs fixed at creation
            sock = free_socket()
            port = sock.getsockname()[1]
            sock.close()
            command[-1] = str(port)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise AssertionError("vcsdk serve did not answer")
            session = httpx.get(f"http://127.0.0.1:{port}/api/session", timeout=5)
            assert session.status_code == 200
        finally:
            process.terminate()
            out, err = process.communicate(timeout=30)
        assert "NOT FOR PRODUCTION" in out
        if run == 0:
            password = re.search(r"operator password \(shown once\): (\S+)", out)
            assert password is not None
            first_password = password.group(1)
        else:
            assert "shown once):" not in out and first_password not in out + err
    assert (tmp_path / "trial.trial" / "trial" / "issuer-key.pem").exists()


def test_first_issuance_binds_the_key_the_service_verified(tmp_path: Path) -> None:
    """The service vouches for the key it verified with a registry nonce: the credential is bound
    to it, and the vouched proof cannot be used twice."""
    from datetime import UTC, datetime

    from tests.conftest import reference_claims
    from tests.test_service_kit import documents, make_settings
    from vcsdk.holder.proof import KeyProof
    from vcsdk.service.core import Service
    from vcsdk.service.issuance import issue_bound, vouch

    service = Service(make_settings(tmp_path / "data", str(tmp_path / "r.sqlite"), port=1))
    registry = service.registry
    claims = {
        k: v for k, v in reference_claims().items() if k not in ("photo_digest", "name_latin", "unit", "position")
    }
    app = registry.apply(applicant="account:a", claims=claims, contact="a@example.go.kr")
    for kind, _name, content, _media, meta in documents(datetime.fromtimestamp(service.clock(), tz=UTC)):
        registry.attach(app, kind, meta, content, actor="account:a")
    registry.submit(app, actor="account:a")
    registry.review(app, reviewer="account:r")
    registry.approve(app, reviewer="account:r")
    device = Ed25519PrivateKey.generate()
    proof = KeyProof(device.public_key, service.settings.base_url, "nonce-checked-by-the-service", service.clock())
    bound = issue_bound(registry, app, proof, "account:a")
    assert json.loads(registry.credential(bound.cti)["device_jwk"]) == device.public_key.to_jwk()
    vouched = vouch(registry, proof)
    assert vouched.audience == registry.issuer_id and vouched.device_key == device.public_key
    moved = registry.reissue(bound.cti, actor="account:a", key_proof=vouched)
    with pytest.raises(KeyProofInvalid):  # the registry nonce is spent
        registry.reissue(moved.cti, actor="account:a", key_proof=vouched)
    service.close()


def test_an_unexpected_error_is_a_problem_and_its_message_is_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    from starlette.requests import Request
    from starlette.responses import Response

    from tests.test_service_kit import make_settings
    from vcsdk.service import create_app
    from vcsdk.service.http import JSONFormatter

    async def broken(request: Request) -> Response:
        raise RuntimeError("secret-input-4711 " + PASSWORD_LIKE)

    settings = make_settings(tmp_path / "data", str(tmp_path / "r.sqlite"), port=1)
    app = create_app(settings, extra_routes=[Route("/broken", broken)], schedule=False)
    caplog.set_level(logging.INFO)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get("/broken")

    response = asyncio.run(call())
    assert response.status_code == 500 and response.json()["code"] == "INTERNAL_ERROR"
    assert "secret-input-4711" not in response.text
    lines = [JSONFormatter().format(r) for r in caplog.records]
    assert any('"error": "RuntimeError"' in line for line in lines)
    assert not any("secret-input-4711" in line or PASSWORD_LIKE in line for line in lines)


PASSWORD_LIKE = "hunter2-password"
