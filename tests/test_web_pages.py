"""The web pages without a browser: catalogues, form checks, the resume note, and a few requests
through the ASGI app in process (CSRF, access, static files, no CDN)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("jinja2")
pytest.importorskip("starlette")

from starlette.testclient import TestClient

from tests.conftest import page_settings
from vcsdk.service.app import create_app
from vcsdk.service.web import KRDS_RESOURCES, common, forms
from vcsdk.service.web.i18n import LANGUAGES, Translator, catalogue, choose

WEB = Path(common.__file__).parent
TODAY = date(2026, 12, 1)
AGENCIES = {1741000: "행정안전부", 1051000: "기획재정부"}
GOOD = {
    "name": "김민준",
    "name_latin": "KIM MINJUN",
    "birth_date": "1988-04-17",
    "agency_code": "1741000",
    "unit": "",
    "rank": "행정주사",
    "position": "주무관",
    "employee_id": "2019-174-00123",
    "contact": "minjun.kim@mois.go.kr",
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    ko, en = catalogue("ko"), catalogue("en")
    assert set(ko) == set(en)
    for key in ko:
        assert ko[key].strip() and en[key].strip(), key
        assert placeholders(ko[key]) == placeholders(en[key]), key


def test_every_literal_key_in_templates_and_pages_exists() -> None:
    sources = [p.read_text(encoding="utf-8") for p in (WEB / "templates").glob("*.html")]
    sources += [p.read_text(encoding="utf-8") for p in WEB.glob("*.py")]
    used = set()
    for source in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']\s*[,)]""", source))
        used |= set(re.findall(r"""\(\s*"(v\.[a-z_]+)",""", source))
    assert len(used) > 100
    missing = sorted(key for key in used if key not in catalogue("ko"))
    assert not missing


def test_language_choice_and_missing_keys() -> None:
    assert choose(None, None) == "ko"
    assert choose("en", "ko") == "en"
    assert choose("xx", "en") == "en"
    assert choose("../../etc/passwd", None) == "ko"
    assert set(LANGUAGES) == {"ko", "en"}
    t = Translator("en")
    assert t("queue.days", days=3) == "3 days"
    assert t("no.such.key") == "no.such.key"


def test_application_form_checks() -> None:
    checked = forms.check_application(GOOD, AGENCIES, TODAY)
    assert checked.ok
    claims = forms.application_claims(checked.values, AGENCIES)
    assert claims["agency"] == "행정안전부" and claims["agency_code"] == 1741000 and "unit" not in claims

    bad = {**GOOD, "name": "  ", "birth_date": "1988-02-30", "agency_code": "9999999", "contact": "x@y"}
    errors = forms.check_application(bad, AGENCIES, TODAY).errors
    assert set(errors) == {"name", "birth_date", "agency_code", "contact"}
    assert errors["birth_date"][0] == "v.date"

    future = forms.check_application({**GOOD, "birth_date": "2030-01-01"}, AGENCIES, TODAY)
    assert future.errors["birth_date"][0] == "v.date_future"
    long_rank = forms.check_application({**GOOD, "rank": "가" * 51}, AGENCIES, TODAY)
    assert long_rank.errors["rank"] == ("v.too_long", {"field": "field.rank", "n": 50})
    dotted = forms.check_application({**GOOD, "birth_date": "1988.4.17"}, AGENCIES, TODAY)
    assert dotted.ok and dotted.values["birth_date"] == "1988-04-17"
    # what was typed comes back, tidied, for the page to show again
    assert forms.check_application({**GOOD, "name": " 김  민준 "}, AGENCIES, TODAY).values["name"] == "김 민준"


def test_document_and_fee_checks() -> None:
    old, meta = forms.check_document_meta("photo", {"captured": "2026-05-01"}, TODAY)
    assert old.errors["captured"] == ("v.photo_old", {"since": "2026-06-01"})
    fresh, meta = forms.check_document_meta("photo", {"captured": "2026-11-20"}, TODAY)
    assert fresh.ok and meta == {"captured": "2026-11-20"}
    ahead, _ = forms.check_document_meta("photo", {"captured": "2026-12-02"}, TODAY)
    assert "captured" in ahead.errors
    expired, _ = forms.check_document_meta(
        "identity_document", {"id_type": "passport", "id_number": "M1", "id_expiry": "2026-12-01"}, TODAY
    )
    assert expired.errors == {"id_expiry": ("v.expired_doc", {})}
    unknown, _ = forms.check_document_meta("identity_document", {"id_type": "library_card"}, TODAY)
    assert {"id_type", "id_number", "id_expiry"} <= set(unknown.errors)
    free, record = forms.check_fee({}, 0)
    assert free.ok and record["amount"] == 0
    unpaid, _ = forms.check_fee({"method": "cash"}, 10_000)
    assert set(unpaid.errors) == {"method", "receipt"}
    decision = forms.check_decision({"decision": "reject", "reason": "  "})
    assert decision.errors == {"reason": ("v.reason", {})}
    assert forms.check_decision({"decision": "approve"}).ok


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(page_settings(tmp_path), schedule=False), follow_redirects=False) as client:
        yield client


def test_resume_note_cannot_be_forged(app_client: TestClient) -> None:
    service = app_client.app.state.service  # type: ignore[attr-defined]
    token = common.resume_token(service, "/applications/new", {"name": "김민준"})
    assert common.read_resume(service, token) == ("/applications/new", {"name": "김민준"})
    raw = bytearray(token.encode())
    raw[-3] = ord("A") if raw[-3] != ord("A") else ord("B")
    assert common.read_resume(service, raw.decode()) is None
    assert common.read_resume(service, "%%%not base64") is None
    real_clock = service.clock
    service.clock = lambda: real_clock() + common.RESUME_TTL + 1
    try:
        assert common.read_resume(service, token) is None  # an hour later the note is void
    finally:
        service.clock = real_clock
    assert not common.RESUMABLE.fullmatch("/admin/accounts")


def test_forms_need_the_csrf_token_and_sign_in(app_client: TestClient) -> None:
    page = app_client.get("/signup")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    refused = app_client.post("/signup", data={"username": "a", "password": "x" * 12, "password2": "x" * 12})
    assert refused.status_code == 400 and "양식이 만료되었습니다" in refused.text
    service = app_client.app.state.service  # type: ignore[attr-defined]
    assert service.accounts.list() == []
    for path in ("/applications", "/review", "/admin/accounts", "/my-id/00"):
        response = app_client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_static_files_are_served_and_no_cdn_is_named(app_client: TestClient) -> None:
    if not KRDS_RESOURCES.is_dir():
        pytest.fail("KRDS missing: run scripts/bootstrap.sh (npm ci in vcsdk/service/web/assets)")
    home = app_client.get("/")
    assert home.status_code == 200
    links = re.findall(r"""(?:href|src)="([^"]+)\"""", home.text)
    assert links and all(link.startswith(("/", "#")) for link in links)
    css = app_client.get("/static/krds/css/component/output.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert app_client.get("/static/krds/fonts/PretendardGOV-Regular.subset.woff2").status_code == 200
    assert app_client.get("/static/krds/../package.json").status_code == 404
    assert app_client.get("/openapi.json").status_code == 200
    english = app_client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "lang=en" in english.headers.get("set-cookie", "")


def test_sign_in_goes_back_only_to_a_local_path() -> None:
    assert common.safe_next("/applications/abc-1/documents") == "/applications/abc-1/documents"
    for hostile in (
        "//evil.example",
        "https://evil.example",
        "/\t/evil.example",
        "/\\evil.example",
        "javascript:x",
        "/a?b=//c",
    ):
        assert common.safe_next(hostile) == "", hostile


def test_pages_forbid_scripts_and_framing(app_client: TestClient) -> None:
    policy = app_client.get("/login").headers["content-security-policy"]
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    templates = (WEB / "templates").glob("*.html")
    assert not any(
        "<script" in p.read_text(encoding="utf-8") or "style=" in p.read_text(encoding="utf-8") for p in templates
    )


def test_the_api_document_leaves_the_pages_out(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    pages_mounted = {getattr(r, "path", "") for r in app_client.app.routes}  # type: ignore[attr-defined]
    assert "/my-id/{cti}" in pages_mounted and "/review" in pages_mounted
    prefixes = ("/applications", "/review", "/admin", "/my-id", "/signup", "/login", "/logout", "/static")
    assert not [p for p in paths if p.startswith(prefixes) or p == "/"]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_what_applicants_type_is_shown_as_text_to_reviewers(app_client: TestClient) -> None:
    """A name with markup reaches the reviewer's queue and page escaped, never as HTML."""
    from datetime import UTC, datetime, timedelta

    from tests.web.conftest import PDF, png_photo

    service = app_client.app.state.service  # type: ignore[attr-defined]
    hostile = "<script>alert(1)</script><img src=x>"
    applicant = service.accounts.create("mallory", "correct horse battery", "applicant", created_by="test")
    service.accounts.create("reviewer9", "correct horse battery", "reviewer", created_by="test")
    claims = {
        "name": hostile,
        "birth_date": "1990-01-01",
        "agency_code": 1051000,
        "agency": "기획재정부",
        "rank": "주무관",
    }
    application = service.registry.apply(
        applicant=applicant.actor, claims={**claims, "employee_id": "X-1"}, contact="m@example.go.kr"
    )
    captured = (datetime.now(tz=UTC).date() - timedelta(days=3)).isoformat()
    for kind, meta, content in (
        ("identity_document", {"type": "passport", "number": "M1", "expiry": "2035-01-01"}, PDF),
        ("photo", {"captured": captured, "media_type": "image/png"}, png_photo()),
        ("position_certificate", {}, PDF),
        ("recommendation", {"signed_by": "<b>boss</b>"}, PDF),
        ("fee_payment", {"amount": 10_000, "method": "card", "receipt": "R1"}, b"{}"),
    ):
        service.storage.put(content)
        service.registry.attach(application, kind, meta, content, actor=applicant.actor)
    service.registry.submit(application, actor=applicant.actor)
    token = _csrf(app_client.get("/login").text)
    signed_in = app_client.post(
        "/login", data={"username": "reviewer9", "password": "correct horse battery", "csrf_token": token}
    )
    assert signed_in.status_code == 303
    for path in ("/review", f"/review/{application}", f"/review/{application}/audit"):
        page = app_client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text and "<img src=x" not in page.text and "<b>boss" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in app_client.get("/review").text
    photo = app_client.get(f"/applications/{application}/documents/photo/file")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    assert "no-store" in photo.headers["cache-control"]

    # an operator sees the application but not the files (they go to the applicant and reviewers)
    service.accounts.create("operator9", "correct horse battery", "operator", created_by="test")
    app_client.cookies.clear()
    token = _csrf(app_client.get("/login").text)
    app_client.post("/login", data={"username": "operator9", "password": "correct horse battery", "csrf_token": token})
    review = app_client.get(f"/review/{application}")
    assert review.status_code == 200 and "/documents/photo/file" not in review.text
    assert app_client.get(f"/applications/{application}/documents/photo/file").status_code == 404
