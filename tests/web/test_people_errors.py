"""Mistakes people make, in the browser: a session that ended while typing, another person's
application, the wrong role; English with a fee-free agency; the operator's pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser

from .conftest import PASSWORD, PHONE, Person, Server


def sign_up(person: Person, username: str) -> None:
    person.visit("/signup", "sign-up")
    person.page.fill("#username", username)
    person.page.fill("#password", PASSWORD)
    person.page.fill("#password2", PASSWORD)
    person.submit("main form button[type=submit]", "form")


def sign_in(person: Person, username: str, label: str) -> None:
    person.visit("/login", "login")
    person.page.fill("#username", username)
    person.page.fill("#password", PASSWORD)
    person.submit("main form button[type=submit]", label)


def test_session_ended_while_typing_keeps_the_form(server: Server, people: Callable[..., Person]) -> None:
    lee = people("lee", phone=True)
    page = lee.page
    sign_up(lee, "leejiwoo")
    page.fill("#name", "이지우")
    page.fill("#birth_date", "1993-07-21")
    page.select_option("#agency_code", "1342000")
    page.fill("#rank", "교육연구사")
    page.fill("#employee_id", "2021-134-00777")
    page.fill("#contact", "jiwoo.lee@moe.go.kr")
    lee.context.clear_cookies()  # the session ended (expired, or signed out in another tab)
    lee.submit("main form button[type=submit]", "signed out while typing")
    assert page.locator("input[name=resume]").count() == 1
    assert "다시 로그인하면 입력하던 내용을" in page.inner_text("main")
    page.fill("#username", "leejiwoo")
    page.fill("#password", PASSWORD)
    lee.submit("main form button[type=submit]", "form kept after sign-in")
    assert page.input_value("#name") == "이지우" and page.input_value("#employee_id") == "2021-134-00777"
    assert page.input_value("#agency_code") == "1342000"
    lee.submit("main form button[type=submit]", "form saved after sign-in")
    assert re.search(r"/applications/[0-9a-f-]{36}/documents$", page.url)
    own = page.url.rsplit("/", 1)[0]

    # -- another applicant cannot see it (the same answer as for a missing one), nor its photo
    kang = people("kang")
    sign_up(kang, "kangminho")
    response = kang.page.goto(own)
    assert response is not None and response.status == 404
    kang.check("another person's application")
    response = kang.page.goto(own + "/documents/photo/file")
    assert response is not None and response.status == 404
    kang.check("another person's photo")

    # -- an applicant is not a reviewer
    response = kang.page.goto(server.base_url + "/review")
    assert response is not None and response.status == 403
    kang.check("applicant on the review queue")


def test_english_and_an_agency_without_fee(server: Server, people: Callable[..., Person]) -> None:
    choi = people("choi", lang="en")
    page = choi.page
    choi.visit("/?lang=en", "start in english")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Apply for a mobile official ID" in page.inner_text("h1")
    page.click("text=Start now")
    choi.check("create account")
    page.fill("#username", "choiyuna")
    page.fill("#password", "short")
    page.fill("#password2", "short")
    choi.submit("main form button[type=submit]", "password too short")
    assert "at least 10 characters" in page.inner_text(".error-summary")
    assert page.input_value("#username") == "choiyuna" and page.input_value("#password") == ""
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    choi.submit("main form button[type=submit]", "your details")
    page.fill("#name", "최유나")
    page.fill("#birth_date", "1995-11-30")
    page.select_option("#agency_code", "1051000")
    page.fill("#rank", "주무관")
    page.fill("#employee_id", "2022-105-00321")
    page.fill("#contact", "not-an-email")
    choi.submit("main form button[type=submit]", "email wrong")
    assert "Enter an email address" in page.inner_text(".error-summary")
    page.fill("#contact", "yuna.choi@moef.go.kr")
    choi.submit("main form button[type=submit]", "documents")
    application = page.url.rsplit("/", 1)[0]
    choi.visit(application.removeprefix(server.base_url) + "/fee", "no fee")
    assert "There is no fee" in page.inner_text("main")
    choi.submit("main form button[type=submit]", "check answers")
    assert "Not uploaded" in page.inner_text("main")
    assert page.locator("main form").count() == 0  # nothing to submit while documents are missing
    application_id = application.rsplit("/", 1)[1]
    fee = [d for d in server.service.registry.show(application_id)["documents"] if d["kind"] == "fee_payment"]
    assert fee and fee[0]["meta"]["amount"] == 0


def test_operator_pages(server: Server, people: Callable[..., Person]) -> None:
    operator = people("operator")
    page = operator.page
    sign_in(operator, "operator1", "operator start")
    operator.visit("/admin/accounts", "accounts")
    page.fill("#username", "reviewer2")
    page.fill("#password", "short")
    operator.submit("main form button[type=submit]", "account password too short")
    assert page.locator(".error-summary a[href='#password']").count() == 1
    assert page.input_value("#username") == "reviewer2"
    page.fill("#password", PASSWORD)
    operator.submit("main form button[type=submit]", "account created")
    assert "reviewer2" in page.inner_text("tbody")
    assert any(a.username == "reviewer2" and a.role == "reviewer" for a in server.service.accounts.list())

    operator.visit("/admin/agencies", "agencies and fees")
    row = page.locator("tbody tr", has_text="1051000")
    assert "0원" in row.inner_text()
    operator.visit("/admin/keys", "keys")
    assert server.settings.issuer_key.kid.hex() in page.inner_text("tbody")
    operator.visit("/admin/status", "status lists")
    operator.submit("main form button[type=submit]", "status published")
    assert server.service.publisher.manifest() is not None
    assert server.service.keys.active_kid() in page.inner_text("main")  # the key that signs the files
    operator.visit("/admin/audit", "audit log")
    operator.submit("main form button[type=submit]", "audit chain checked")
    report = server.service.registry.audit_verify()
    assert report.ok, report.problems
    assert f"{report.entries}건" in page.inner_text("#chain-result")


def test_pages_obey_their_csp(server: Server, browser: Browser) -> None:
    """Without any CSP bypass: the pages load KRDS, its fonts and their own CSS, and nothing is
    blocked (no script, no inline style, nothing from another site)."""
    context = browser.new_context(viewport=PHONE)
    blocked: list[str] = []
    outside: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server.base_url, "data:")) else None)
    try:
        for path in ("/", "/signup", "/login?lang=en"):
            response = page.goto(server.base_url + path)
            assert response is not None and response.status == 200
            page.wait_for_load_state("networkidle")
        page.fill("#username", "nobody")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert page.locator(".error-summary").is_visible()
        font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
        loaded = page.evaluate("() => document.fonts.check('16px \\'Pretendard GOV\\'')")
        masthead = page.evaluate("() => getComputedStyle(document.querySelector('#krds-masthead .nuri-txt')).fontSize")
    finally:
        context.close()
    assert not blocked, blocked
    assert not outside, outside
    assert "Pretendard GOV" in font and loaded
    assert masthead.endswith("px")


def test_keyboard_only(server: Server, people: Callable[..., Person]) -> None:
    """The skip link comes first and lands on the main content; signing in works with Tab and Enter."""
    yoon = people("yoon")
    page = yoon.page
    yoon.visit("/login", "keyboard login")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.focus("#username")
    page.keyboard.type("reviewer1")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    yoon.check("keyboard signed in")
    assert page.url.endswith("/review")
    outline = page.evaluate(
        "() => { const a = document.querySelector('main a, main button'); a.focus();"
        " return getComputedStyle(a).outlineStyle; }"
    )
    assert outline != "none"  # focus is visible
