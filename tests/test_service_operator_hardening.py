"""Defects a hostile review found in the operator pages and keyring, attacked in process (TestClient).

Each test failed before its fix: an over-limit multipart body runs an operator
action, non-UTF-8 form bytes land as mojibake in agency names (the Korean name becomes a signed
claim), the JSON API applies for agencies the operator deactivated or never listed, and the JSON
API takes any JSON value of any length as an operator's reason."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jinja2")
pytest.importorskip("starlette")

from starlette.testclient import TestClient

from tests.conftest import page_settings, reference_claims
from tests.web.conftest import PDF, png_photo
from vcsdk.service.app import create_app

PASSWORD = "correct horse battery"
BOUNDARY = "rv2boundary"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    application = create_app(page_settings(tmp_path), schedule=False)
    with TestClient(application):
        yield application


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def signed_in(app: Any, username: str, role: str) -> tuple[TestClient, str, str]:
    """A client signed in as a new account: (client, its CSRF token, its actor)."""
    account = app.state.service.accounts.create(username, PASSWORD, role, created_by="test")
    client = TestClient(app, follow_redirects=False)
    token = _csrf(client.get("/login").text)
    assert (
        client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 303
    )
    return client, _csrf(client.get("/admin/keys" if role == "operator" else "/applications/new").text), account.actor


def issued(app: Any, actor: str) -> str:
    """An unbound credential of ``actor``, issued through the registry; its cti."""
    service = app.state.service
    claims = {
        "name": "김민준",
        "birth_date": "1990-01-01",
        "agency_code": 1051000,
        "agency": "기획재정부",
        "rank": "주무관",
        "employee_id": "X-" + secrets.token_hex(3),
    }
    application = service.registry.apply(applicant=actor, claims=claims, contact="m@example.go.kr")
    captured = (datetime.fromtimestamp(service.clock(), tz=UTC).date() - timedelta(days=3)).isoformat()
    for kind, meta, content in (
        ("identity_document", {"type": "passport", "number": "M1", "expiry": "2035-01-01"}, PDF),
        ("photo", {"captured": captured, "media_type": "image/png"}, png_photo()),
        ("position_certificate", {}, PDF),
        ("recommendation", {"signed_by": "boss"}, PDF),
        ("fee_payment", {"amount": 10_000, "method": "card", "receipt": "R1"}, b"{}"),
    ):
        service.storage.put(content)
        service.registry.attach(application, kind, meta, content, actor=actor)
    service.registry.submit(application, actor=actor)
    service.registry.review(application, reviewer="account:rev")
    service.registry.approve(application, reviewer="account:rev")
    return str(service.registry.issue(application, actor="system").cti)


def multipart(fields: dict[str, str], file_size: int) -> bytes:
    """Text fields, then a file part of ``file_size`` bytes (the way a form puts its file last)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n'.encode())
    return b"".join(parts) + b"x" * file_size + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_an_over_limit_body_never_runs_an_operator_action(app: Any) -> None:
    """The body limit salvages the text fields of an over-limit multipart form for the upload
    page; every other page must refuse such a request, not carry out what its fields say."""
    service = app.state.service
    operator, csrf, actor = signed_in(app, "op1", "operator")
    too_big = service.settings.max_upload_bytes + 1024 * 1024
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    kid = service.keys.active_kid()
    body = multipart({"csrf_token": csrf, "expected": kid, "confirm": "yes"}, too_big)
    answer = operator.post("/admin/keys/rotate", content=body, headers=headers)
    assert answer.status_code == 413
    assert service.keys.active_kid() == kid
    cti = issued(app, actor)
    fields = {"csrf_token": csrf, "action": "revoke", "reason": "r", "seen": "issued", "confirm": "yes"}
    answer = operator.post(f"/admin/credentials/{cti}", content=multipart(fields, too_big), headers=headers)
    assert answer.status_code == 413
    assert service.registry.credential(cti)["state"] == "issued"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"code=2345678&fee=1&name_en=&name_ko=\xff\xfe\xc0\xaf"),
        ("application/x-www-form-urlencoded", b"code=2345678&fee=1&name_en=&name_ko=%FF%FE"),
        pytest.param(
            f"multipart/form-data; boundary={BOUNDARY}",
            b"".join(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n"
                for k, v in (("code", b"2345678"), ("fee", b"1"), ("name_ko", b"\xff\xfe"))
            )
            + f"--{BOUNDARY}--\r\n".encode(),
        ),
    ],
    ids=["raw-bytes", "percent-escapes", "multipart"],
)
def test_a_form_that_is_not_utf8_is_refused(app: Any, content_type: str, body: bytes) -> None:
    """Starlette decodes bytes that are not UTF-8 as Latin-1 (or U+FFFD): the agency's Korean
    name, which every credential of the agency carries as a signed claim, becomes mojibake."""
    service = app.state.service
    operator, csrf, _ = signed_in(app, "op1", "operator")
    answer = operator.post(
        "/admin/agencies", content=body, headers={"content-type": content_type, "x-csrf-token": csrf}
    )
    assert answer.status_code == 400
    assert 2345678 not in {a.code for a in service.agencies.all()}


def test_the_api_applies_only_for_an_offered_agency_under_its_name(app: Any) -> None:
    """docs/web.md: "A deactivated agency is no longer offered to new applications" -- the JSON
    API took a deactivated agency, a code not on the list, and any agency name for a code."""
    service = app.state.service
    applicant, csrf, _ = signed_in(app, "app1", "applicant")
    service.agencies.update(1051000, actor="test", active=False)
    for code, name in ((1051000, "기획재정부"), (9999999, "없는기관"), (1741000, "가짜기관")):
        claims = reference_claims()
        claims.update(agency_code=code, agency=name, employee_id="Z-" + secrets.token_hex(3))
        answer = applicant.post(
            "/api/applications", json={"claims": claims, "contact": "b@example.go.kr"}, headers={"x-csrf-token": csrf}
        )
        assert answer.status_code == 400, (code, name, answer.text[:200])
    assert service.registry.applications() == []


@pytest.mark.parametrize("reason", [{"a": [1]}, ["x"], 7, "r" * 5000, "a\x00\x1b[31mb"])
def test_the_api_takes_an_operators_reason_as_short_text_only(app: Any, reason: Any) -> None:
    """The page limits a reason to 500 characters of text; the JSON API stored str() of any
    JSON value, control characters included, up to the 64 KiB body limit."""
    service = app.state.service
    operator, csrf, actor = signed_in(app, "op1", "operator")
    cti = issued(app, actor)
    answer = operator.post(f"/api/credentials/{cti}/suspend", json={"reason": reason}, headers={"x-csrf-token": csrf})
    assert answer.status_code == 400
    assert service.registry.credential(cti)["state"] == "issued"


def test_a_transfer_through_the_api_goes_only_to_an_offered_agency(app: Any) -> None:
    """The holder's change application (``/api/credentials/{cti}/change``) took any agency code
    and any agency name; a change that keeps the agency is not affected by the list."""
    service = app.state.service
    applicant, csrf, actor = signed_in(app, "app1", "applicant")
    cti = issued(app, actor)
    service.agencies.update(1741000, actor="test", active=False)
    for changes in (
        {"agency_code": 9999999, "agency": "없는기관"},
        {"agency_code": 1741000, "agency": "행정안전부"},
        {"agency": "가짜기관"},
    ):
        answer = applicant.post(
            f"/api/credentials/{cti}/change", json={"changes": changes}, headers={"x-csrf-token": csrf}
        )
        assert answer.status_code == 400, (changes, answer.text[:200])
    moved = {"agency_code": 1270000, "agency": "법무부"}
    answer = applicant.post(f"/api/credentials/{cti}/change", json={"changes": moved}, headers={"x-csrf-token": csrf})
    assert answer.status_code == 201


def test_an_agency_form_sent_after_another_operators_change_does_not_undo_it(app: Any) -> None:
    """The agency form sends every field (fee, English name, offered); the key and credential
    forms carry what the operator saw and refuse a stale send (409), the agency form did not:
    operator A's fee change silently offered again the agency operator B had just deactivated."""
    service = app.state.service
    first, csrf, _ = signed_in(app, "op1", "operator")
    page = first.get("/admin/agencies/1741000").text  # A opens the form: offered, 10,000
    seen = dict(re.findall(r'<input type="hidden" name="(seen)" value="([^"]*)"', page))
    service.agencies.update(1741000, actor="account:other-operator", active=False)  # B deactivates
    answer = first.post(
        "/admin/agencies/1741000", data={"csrf_token": csrf, "fee": "12000", "name_en": "MOIS", "active": "yes", **seen}
    )
    assert answer.status_code == 409
    assert service.agencies.get(1741000).active is False
