"""Attacks on the issuer service over HTTP (uvicorn on 127.0.0.1): IDOR, roles, conflict of
interest, CSRF, offer codes, hostile uploads, sign-in throttling, secrets in responses and logs."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.test_service_kit import (
    PASSWORD,
    PDF,
    PRE_AUTH,
    Client,
    LiveServer,
    apply_complete,
    credential,
    live_server,
    offer_code,
    photo_png,
    proof,
    redeem,
    signed_in,
    token,
    upload,
)
from vcsdk import Ed25519PrivateKey
from vcsdk.errors import UploadRefused
from vcsdk.holder.proof import make_key_proof
from vcsdk.keys import b64url_encode
from vcsdk.service.http import JSONFormatter
from vcsdk.service.storage import FileStorage
from vcsdk.service.uploads import check_filename


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("svc")
    with live_server(folder / "data", str(folder / "registry.sqlite"), login_max_failures=1000) as server:
        yield server


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.go.kr"


def _approved(live: LiveServer) -> tuple[Client, str]:
    applicant = signed_in(live.base, _name("holder"))
    application_id = apply_complete(applicant, live.clock(), employee_id=f"E-{secrets.token_hex(4)}")
    applicant.post(f"/api/applications/{application_id}/submit")
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    assert reviewer.post(f"/api/reviews/{application_id}/approve", {}).json()["state"] == "approved"
    reviewer.close()
    return applicant, application_id


def _document_count(live: LiveServer) -> int:
    storage = live.service.storage
    assert isinstance(storage, FileStorage)
    return storage.count()


# ------------------------------------------------------------------ IDOR and roles


def test_an_applicant_cannot_touch_another_applicants_records(live: LiveServer) -> None:
    owner, application_id = _approved(live)
    document = owner.get(f"/api/applications/{application_id}").json()["documents"][0]["sha256"]
    assert owner.get(f"/api/applications/{application_id}/documents/{document}").content == PDF
    offer = owner.post(f"/api/applications/{application_id}/offer").json()
    text_value = redeem(live.base, offer, Ed25519PrivateKey.generate(), live.clock())
    cti = owner.get(f"/api/applications/{application_id}").json()["credentials"][-1]["cti"]
    assert text_value

    other = signed_in(live.base, _name("intruder"))
    attempts = [
        other.get(f"/api/applications/{application_id}"),
        other.get(f"/api/applications/{application_id}/documents/{document}"),
        upload(other, application_id, "position_certificate", "x.pdf", PDF, "application/pdf", {}),
        other.post(f"/api/applications/{application_id}/submit"),
        other.post(f"/api/applications/{application_id}/offer"),
        other.get(f"/api/credentials/{cti}"),
        other.post(f"/api/credentials/{cti}/report-lost"),
        other.get(f"/api/offers/{offer['offer_id']}/qr.png"),
    ]
    for response in attempts:
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "RECORD_NOT_FOUND"
    assert application_id not in other.get("/api/applications").text
    assert owner.get(f"/api/credentials/{cti}").json()["state"] == "issued"  # nothing changed
    anonymous = Client(live.base)
    assert anonymous.get(f"/api/applications/{application_id}").json()["code"] == "AUTHENTICATION_REQUIRED"
    assert anonymous.get(f"/api/applications/{application_id}/documents/{document}").status_code == 401
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    assert reviewer.get(f"/api/applications/{application_id}/documents/{document}").content == PDF
    operator = live.staff(f"op-{secrets.token_hex(3)}")
    assert operator.get(f"/api/applications/{application_id}/documents/{document}").status_code == 404


def test_an_applicant_cannot_review_or_operate(live: LiveServer) -> None:
    owner, application_id = _approved(live)
    other_applicant = signed_in(live.base, _name("sneaky"))
    for client in (owner, other_applicant):
        assert client.get("/api/reviews").json()["code"] == "ACCESS_DENIED"
        refused = client.post(f"/api/reviews/{application_id}/reject", {"reason": "no"})
        assert refused.status_code == 403 and refused.json()["code"] == "ACCESS_DENIED"
        made = client.post("/api/staff", {"username": _name("fake"), "password": PASSWORD, "role": "operator"})
        assert made.status_code == 403
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    made = reviewer.post("/api/staff", {"username": _name("fake"), "password": PASSWORD, "role": "reviewer"})
    assert made.status_code == 403 and made.json()["code"] == "ACCESS_DENIED"
    assert owner.get(f"/api/applications/{application_id}").json()["state"] == "approved"


def test_a_reviewer_cannot_decide_their_own_application(live: LiveServer) -> None:
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    application_id = apply_complete(reviewer, live.clock(), employee_id=f"E-{secrets.token_hex(4)}")
    reviewer.post(f"/api/applications/{application_id}/submit")
    own = [item for item in reviewer.get("/api/reviews").json()["queue"] if item["id"] == application_id]
    assert own and own[0]["own"] is True
    for action, body in (("approve", {}), ("reject", {"reason": "x"}), ("request-documents", {"reason": "x"})):
        refused = reviewer.post(f"/api/reviews/{application_id}/{action}", body)
        assert refused.status_code == 403 and refused.json()["code"] == "REVIEWER_CONFLICT"
    colleague = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    assert colleague.post(f"/api/reviews/{application_id}/approve", {}).json()["state"] == "approved"


# ------------------------------------------------------------------ CSRF


def test_state_changes_without_the_csrf_token_are_refused(live: LiveServer) -> None:
    applicant = signed_in(live.base, _name("csrf"))
    claims = {"name": "김민준", "birth_date": "1988-04-17", "agency_code": 1741000, "agency": "행정안전부"}
    claims |= {"rank": "행정주사", "employee_id": f"E-{secrets.token_hex(4)}"}
    body = {"claims": claims, "contact": "x@example.go.kr"}
    before = applicant.get("/api/applications").json()["applications"]
    assert applicant.post("/api/applications", body, csrf=False).json()["code"] == "CSRF_TOKEN_INVALID"
    forged = applicant.post("/api/applications", body, csrf=False, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403 and forged.json()["code"] == "CSRF_TOKEN_INVALID"
    other = signed_in(live.base, _name("csrf-other"))
    stolen = applicant.post("/api/applications", body, csrf=False, headers={"X-CSRF-Token": other.csrf})
    assert stolen.status_code == 403
    assert applicant.get("/api/applications").json()["applications"] == before

    application_id = applicant.post("/api/applications", body).json()["id"]
    stored = _document_count(live)
    form_without = applicant.http.post(
        f"/api/applications/{application_id}/documents",
        data={"kind": "position_certificate", "meta": "{}"},
        files={"file": ("p.pdf", PDF + secrets.token_bytes(8), "application/pdf")},
    )
    assert form_without.status_code == 403 and form_without.json()["code"] == "CSRF_TOKEN_INVALID"
    assert _document_count(live) == stored
    assert applicant.get(f"/api/applications/{application_id}").json()["documents"] == []
    # sign-in and sign-out are protected as well (login CSRF)
    fresh = httpx.Client(base_url=live.base)
    login = fresh.post("/api/session", json={"username": "whoever", "password": PASSWORD})
    assert login.status_code == 403 and login.json()["code"] == "CSRF_TOKEN_INVALID"
    logout = applicant.http.delete("/api/session")
    assert logout.status_code == 403
    assert applicant.get("/api/session").json()["account"] is not None


def test_cookies_are_httponly_and_samesite(live: LiveServer) -> None:
    client = Client(live.base)
    client.register(_name("cookie"))
    response = client.http.get("/api/session")
    assert response.status_code == 200
    login = Client(live.base)
    name = _name("cookie2")
    login.register(name)
    answer = login.post("/api/session", {"username": name, "password": PASSWORD})
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("vcsdk_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


# ------------------------------------------------------------------ offers, tokens, nonces


def test_an_offer_code_works_once(live: LiveServer) -> None:
    applicant, application_id = _approved(live)
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    code = offer_code(offer["offer_uri"], live.base)
    first = token(live.base, code, offer["tx_code"])
    assert first.status_code == 200
    second = token(live.base, code, offer["tx_code"])
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert httpx.get(f"{live.base}/offers/{offer['offer_id']}").status_code == 404
    access = first.json()["access_token"]
    device = Ed25519PrivateKey.generate()
    assert credential(live.base, access, proof(live.base, device, live.clock())).status_code == 200
    replay = credential(live.base, access, proof(live.base, device, live.clock()))
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_token"


def test_an_offer_expires_and_wrong_tx_codes_burn_it(live: LiveServer) -> None:
    applicant, application_id = _approved(live)
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    code = offer_code(offer["offer_uri"], live.base)
    live.clock.advance(live.settings.offer_ttl + 1)
    try:
        expired = token(live.base, code, offer["tx_code"])
        assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
        assert httpx.get(f"{live.base}/offers/{offer['offer_id']}").status_code == 404
        assert applicant.get(f"/api/offers/{offer['offer_id']}/qr.png").status_code == 409
    finally:
        live.clock.advance(-(live.settings.offer_ttl + 1))
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    code = offer_code(offer["offer_uri"], live.base)
    wrong = "000000" if offer["tx_code"] != "000000" else "111111"
    for _ in range(live.settings.tx_code_attempts):
        assert token(live.base, code, wrong).json()["error"] == "invalid_grant"
    burned = token(live.base, code, offer["tx_code"])
    assert burned.status_code == 400 and burned.json()["error"] == "invalid_grant"
    # a new offer voids the previous one
    first = applicant.post(f"/api/applications/{application_id}/offer").json()
    second = applicant.post(f"/api/applications/{application_id}/offer").json()
    assert httpx.get(f"{live.base}/offers/{first['offer_id']}").status_code == 404
    assert redeem(live.base, second, Ed25519PrivateKey.generate(), live.clock()).startswith("GID1:")


def test_nonces_and_proofs_cannot_be_replayed_or_forged(live: LiveServer) -> None:
    applicant, application_id = _approved(live)
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    access = token(live.base, offer_code(offer["offer_uri"], live.base), offer["tx_code"]).json()["access_token"]
    device = Ed25519PrivateKey.generate()
    nonce = httpx.post(live.base + "/nonce").json()["c_nonce"]
    now = live.clock()
    unknown = b64url_encode(make_key_proof(device, audience=live.base, nonce="made-up-nonce", issued_at=now))
    assert credential(live.base, access, unknown).json()["error"] == "invalid_nonce"
    other_audience = b64url_encode(make_key_proof(device, audience="https://evil.example", nonce=nonce, issued_at=now))
    assert credential(live.base, access, other_audience).json()["error"] == "invalid_proof"
    stale = b64url_encode(make_key_proof(device, audience=live.base, nonce=nonce, issued_at=now - 3600))
    assert credential(live.base, access, stale).json()["error"] == "invalid_proof"
    assert credential(live.base, access, "bm90IGEgcHJvb2Y").json()["error"] == "invalid_proof"
    good = b64url_encode(make_key_proof(device, audience=live.base, nonce=nonce, issued_at=now))
    bad_config = httpx.post(
        live.base + "/credential",
        json={"credential_configuration_id": "Other", "proofs": {"cwt": [good]}},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert bad_config.json()["error"] == "invalid_credential_request"
    assert credential(live.base, "forged-token", good).status_code == 401
    assert credential(live.base, access, good).status_code == 200  # the failures above did not burn it
    # the nonce is spent now: the same proof again is refused even with a new token
    offer2 = applicant.post(f"/api/applications/{application_id}/offer").json()
    access2 = token(live.base, offer_code(offer2["offer_uri"], live.base), offer2["tx_code"]).json()["access_token"]
    assert credential(live.base, access2, good).json()["error"] == "invalid_nonce"
    grant = httpx.post(live.base + "/token", data={"grant_type": "password", "pre-authorized_code": "x"})
    assert grant.json()["error"] == "unsupported_grant_type"
    assert httpx.post(live.base + "/token", json={"grant_type": PRE_AUTH}).status_code == 400


# ------------------------------------------------------------------ uploads


def _bomb_png() -> bytes:
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000), 0).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize(
    ("case", "kind", "name", "content", "media", "meta", "status"),
    [
        ("too large", "position_certificate", "big.pdf", PDF + b"0" * 400_000, "application/pdf", {}, 413),
        ("not a document", "position_certificate", "x.pdf", b"MZ\x90\x00 windows", "application/pdf", {}, 422),
        ("html as pdf", "recommendation", "r.pdf", b"<html><script>alert(1)</script>", "application/pdf", {}, 422),
        ("declared otherwise", "position_certificate", "p.pdf", photo_png(), "application/pdf", {}, 422),
        ("pdf as photo", "photo", "photo.pdf", PDF, "application/pdf", {"captured": "2026-01-01"}, 422),
        ("traversal", "position_certificate", "../../etc/passwd.pdf", PDF + b"t", "application/pdf", {}, 422),
        ("windows traversal", "position_certificate", "..\\..\\boot.pdf", PDF + b"w", "application/pdf", {}, 422),
        ("hidden", "position_certificate", ".htaccess", PDF + b"h", "application/pdf", {}, 422),
        ("long name", "position_certificate", "a" * 300 + ".pdf", PDF + b"c", "application/pdf", {}, 422),
        ("wrong aspect", "photo", "wide.png", photo_png(600, 450), "image/png", {}, 422),
        ("too small", "photo", "small.png", photo_png(70, 90), "image/png", {}, 422),
        ("empty", "position_certificate", "e.pdf", b"", "application/pdf", {}, 422),
        ("unknown kind", "selfie", "s.png", photo_png(), "image/png", {}, 422),
        ("truncated image", "position_certificate", "t.png", photo_png()[:200], "image/png", {}, 422),
    ],
)
def test_hostile_uploads_are_refused_and_nothing_is_stored(
    live: LiveServer, case: str, kind: str, name: str, content: bytes, media: str, meta: dict[str, Any], status: int
) -> None:
    applicant = signed_in(live.base, _name("upload"))
    claims = {"name": "김민준", "birth_date": "1988-04-17", "agency_code": 1741000, "agency": "행정안전부"}
    claims |= {"rank": "행정주사", "employee_id": f"E-{secrets.token_hex(4)}"}
    application_id = applicant.post("/api/applications", {"claims": claims, "contact": "x@example.go.kr"}).json()["id"]
    if kind == "photo" and "captured" not in meta:
        meta = {"captured": live_date(live)}
    stored = _document_count(live)
    response = upload(applicant, application_id, kind, name, content, media, meta)
    assert response.status_code == status, (case, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "UPLOAD_REFUSED", case
    assert _document_count(live) == stored, case
    assert applicant.get(f"/api/applications/{application_id}").json()["documents"] == [], case


@pytest.mark.parametrize("name", ["a\x07b.pdf", "a\x00.pdf", "dir/x.pdf", "..", "x\u202e.pdf", ""])
def test_unsafe_file_names_are_refused(name: str) -> None:
    with pytest.raises(UploadRefused):
        check_filename(name)


def live_date(live: LiveServer) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(live.clock(), tz=UTC).date().isoformat()


def test_a_decompression_bomb_and_old_photos_are_refused(live: LiveServer) -> None:
    applicant = signed_in(live.base, _name("bomb"))
    claims = {"name": "김민준", "birth_date": "1988-04-17", "agency_code": 1741000, "agency": "행정안전부"}
    claims |= {"rank": "행정주사", "employee_id": f"E-{secrets.token_hex(4)}"}
    application_id = applicant.post("/api/applications", {"claims": claims, "contact": "x@example.go.kr"}).json()["id"]
    bomb = _bomb_png()
    assert len(bomb) < live.settings.max_upload_bytes
    stored = _document_count(live)
    for kind in ("photo", "position_certificate"):
        refused = upload(applicant, application_id, kind, "bomb.png", bomb, "image/png", {"captured": live_date(live)})
        assert refused.status_code == 422 and "pixels" in refused.json()["detail"], refused.text
    old = upload(applicant, application_id, "photo", "old.png", photo_png(), "image/png", {"captured": "2020-01-01"})
    assert old.status_code == 422 and "6 months" in old.json()["detail"]
    future = upload(applicant, application_id, "photo", "f.png", photo_png(), "image/png", {"captured": "2999-01-01"})
    assert future.status_code == 422
    undated = upload(applicant, application_id, "photo", "u.png", photo_png(), "image/png", {})
    assert undated.status_code == 422
    assert _document_count(live) == stored
    good = upload(applicant, application_id, "photo", "ok.png", photo_png(), "image/png", {"captured": live_date(live)})
    assert good.status_code == 201
    assert _document_count(live) in (stored, stored + 1)  # content-addressed: the same photo is stored once


def test_a_body_over_the_limit_is_refused_while_streaming(live: LiveServer) -> None:
    applicant = signed_in(live.base, _name("stream"))

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 10_000

    response = applicant.http.post(
        "/api/applications",
        content=chunks(),
        headers={"X-CSRF-Token": applicant.csrf, "content-type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["code"] == "UPLOAD_REFUSED"


# ------------------------------------------------------------------ sign-in throttling


def test_login_throttling_holds(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", str(tmp_path / "r.sqlite"), login_max_failures=3, login_lockout=600) as live:
        name = _name("victim")
        client = Client(live.base)
        assert client.register(name).status_code == 201
        for _ in range(3):
            wrong = client.post("/api/session", {"username": name, "password": "wrong password!"})
            assert wrong.status_code == 401 and wrong.json()["code"] == "AUTHENTICATION_REQUIRED"
        locked = client.post("/api/session", {"username": name, "password": PASSWORD})
        assert locked.status_code == 429 and locked.json()["code"] == "LOGIN_THROTTLED"
        assert client.get("/api/session").json()["account"] is None
        # unknown names answer exactly like wrong passwords
        ghost = client.post("/api/session", {"username": _name("ghost"), "password": PASSWORD})
        assert ghost.status_code == 401 and ghost.json()["detail"] == wrong.json()["detail"]
        live.clock.advance(601)
        assert client.login(name).status_code == 200
        # many names from one address: the address is locked out too (4x the per-name limit)
        live.clock.advance(10_000)
        spray = Client(live.base)
        answers = [
            spray.post("/api/session", {"username": _name(f"spray{i}"), "password": "wrong password!"}).status_code
            for i in range(13)
        ]
        assert answers[:12] == [401] * 12 and answers[12] == 429


# ------------------------------------------------------------------ no secrets in responses or logs


def test_no_response_or_log_line_carries_a_password_key_or_qr_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="vcsdk")
    bodies: list[tuple[str, str]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        bodies.append((response.request.url.path, response.text + json.dumps(dict(response.headers))))

    with live_server(tmp_path / "data", str(tmp_path / "r.sqlite")) as live:
        applicant = signed_in(live.base, _name("quiet"))
        applicant.http.event_hooks["response"] = [record]
        reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
        reviewer.http.event_hooks["response"] = [record]
        application_id = apply_complete(applicant, live.clock(), employee_id=f"E-{secrets.token_hex(4)}")
        applicant.post(f"/api/applications/{application_id}/submit")
        reviewer.get("/api/reviews")
        reviewer.get(f"/api/applications/{application_id}")
        reviewer.post(f"/api/reviews/{application_id}/approve", {})
        offer = applicant.post(f"/api/applications/{application_id}/offer").json()
        wallet = httpx.Client(base_url=live.base, event_hooks={"response": [record]})
        code = offer_code(offer["offer_uri"], live.base)
        access = wallet.post(
            "/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": offer["tx_code"]}
        ).json()["access_token"]
        device = Ed25519PrivateKey.generate()
        nonce = wallet.post("/nonce").json()["c_nonce"]
        proof_text = b64url_encode(make_key_proof(device, audience=live.base, nonce=nonce, issued_at=live.clock()))
        issued = wallet.post(
            "/credential",
            json={"credential_configuration_id": "KR-GOV-OfficialID", "proofs": {"cwt": [proof_text]}},
            headers={"Authorization": f"Bearer {access}"},
        )
        qr_text = issued.json()["credentials"][0]["credential"]
        cti = applicant.get(f"/api/applications/{application_id}").json()["credentials"][-1]["cti"]
        applicant.get(f"/api/credentials/{cti}")
        applicant.post(f"/api/credentials/{cti}/report-lost")
        wallet.get("/bundle")
        applicant.post("/api/session", {"username": "nobody", "password": "a wrong password"})
        settings = live.settings
        secrets_never = {
            "password": PASSWORD,
            "issuer key": settings.issuer_key.to_jwk()["d"],
            "anchor key": settings.anchor_key.to_jwk()["d"],
            "session secret": settings.session_secret.hex(),
            "device key": device.to_jwk()["d"],
            "QR text": qr_text[5:60],
        }
        for path, body in bodies:
            for what, value in secrets_never.items():
                if what == "QR text" and path == "/credential":
                    continue
                assert value not in body, f"{what} in the response of {path}"
        lines = [JSONFormatter().format(r) for r in caplog.records]
        assert any('"route": "/api/applications/{application_id}/documents"' in line for line in lines)
        for line in lines:
            for what, value in {
                **secrets_never,
                "QR text": qr_text[5:60],
                "tx code": f'"{offer["tx_code"]}"',
                "pre-authorized code": code,
                "access token": access,
                "name": "김민준",
                "user name": applicant_name(applicant),
            }.items():
                assert value not in line, f"{what} in a log line"


def applicant_name(client: Client) -> str:
    return str(client.get("/api/session").json()["account"]["username"])
