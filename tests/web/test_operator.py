"""The operator's pages that change things, clicked through in the browser: rotate the issuer key
and see the new signing key, add an agency and edit its fee, find a credential and suspend and
reinstate it (each first sent with a mistake). A gate reading the published bundle follows each
change; a reviewer is refused the same pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page

from tests.test_service_kit import Client, apply_complete, redeem, signed_in
from vcsdk import Ed25519PrivateKey
from vcsdk.errors import Code
from vcsdk.gate.core import Gate
from vcsdk.holder import present

from .conftest import PASSWORD, Person, Server
from .test_people_errors import sign_in


def issue(server: Server, username: str, employee_id: str) -> tuple[str, Ed25519PrivateKey, str]:
    """A credential issued through the JSON API (the browser flow has its own test): (QR text,
    device key, cti)."""
    applicant = signed_in(server.base_url, username)
    application_id = apply_complete(applicant, server.clock(), employee_id=employee_id)
    assert applicant.post(f"/api/applications/{application_id}/submit").status_code == 200
    reviewer = Client(server.base_url)
    assert reviewer.login("reviewer1", PASSWORD).status_code == 200
    assert reviewer.post(f"/api/reviews/{application_id}/approve", {}).json()["state"] == "approved"
    reviewer.close()
    phone = Ed25519PrivateKey.generate()
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    text = redeem(server.base_url, offer, phone, server.clock())
    applicant.close()
    return text, phone, str(server.service.registry.show(application_id)["credentials"][-1]["cti"])


def tick(page: Page, element_id: str) -> None:
    """Tick a checkbox or radio by its label, as a person does (KRDS draws the box on the label)."""
    page.click(f"label[for={element_id}]")
    assert page.is_checked("#" + element_id)


def gate_code(server: Server, text: str, phone: Ed25519PrivateKey) -> Code:
    gate = Gate([server.settings.anchor_key.public_key], clock=server.clock)
    gate.load(httpx.get(server.base_url + "/bundle", timeout=30).content)
    return gate.check(present(text, phone, now=server.clock())).code


def test_operator_rotates_a_key_edits_a_fee_and_suspends_a_credential(
    server: Server, people: Callable[..., Person]
) -> None:
    service = server.service
    text, phone, cti = issue(server, "parkseoyeon@example.go.kr", "2020-174-00456")
    assert gate_code(server, text, phone) == Code.VALID
    operator = people("operator")
    page = operator.page
    page.set_viewport_size({"width": 960, "height": 900})  # a laptop; the README shows one shot
    sign_in(operator, "operator1", "operator start")

    # -- keys: rotate (first without the confirmation), then the new key is the one that signs
    old_kid = service.keys.active_kid()
    operator.visit("/admin/keys", "keys before rotation")
    assert old_kid in page.inner_text("tbody tr.row-current")
    operator.submit("form[action='/admin/keys/rotate'] button[type=submit]", "rotate not confirmed")
    assert page.locator(".error-summary a[href='#confirm']").count() == 1
    assert service.keys.active_kid() == old_kid
    tick(page, "confirm")
    operator.submit("form[action='/admin/keys/rotate'] button[type=submit]", "key rotated")
    new_kid = service.keys.active_kid()
    assert new_kid != old_kid
    assert new_kid in page.inner_text(".notice") and new_kid in page.inner_text("tbody tr.row-current")
    old_row = page.locator("tbody tr", has_text=old_kid)
    assert "검증 전용" in old_row.inner_text()  # verify-only, still in the trust list
    assert gate_code(server, text, phone) == Code.VALID  # credentials signed before still verify
    page.click(f"a[href='/admin/keys/{old_kid}']")
    operator.check("old key")
    assert page.locator("form[action='/admin/keys/" + old_kid + "']").count() == 1  # may be withdrawn

    # -- agencies and fees: add one, then change its fee (first with a fee that is not a number)
    operator.visit("/admin/agencies", "agencies")
    page.fill("#code", "1613000")
    page.fill("#name_ko", "국토교통부")
    page.fill("#name_en", "Ministry of Land, Infrastructure and Transport")
    page.fill("#fee", "5,000")
    operator.submit("main form button[type=submit]", "agency added")
    assert "1613000" in page.inner_text(".notice")
    assert "5,000원" in page.locator("tbody tr", has_text="1613000").inner_text()
    page.click("a[href='/admin/agencies/1613000']")
    operator.check("edit agency")
    page.fill("#fee", "칠천원")
    operator.submit("main form button[type=submit]", "fee not a number")
    assert page.locator(".error-summary a[href='#fee']").count() == 1
    assert page.input_value("#fee") == "칠천원"  # what was typed is kept
    page.fill("#fee", "7000")
    operator.submit("main form button[type=submit]", "fee saved")
    assert "7,000원" in page.locator("tbody tr", has_text="1613000").inner_text()
    assert service.agencies.fee_of(1613000) == 7000

    # -- a credential: find it, suspend it (first without a reason), reinstate it
    operator.visit("/admin/credentials", "credentials")
    page.fill("#q", "2020-174-00456")
    operator.submit("main form[role=search] button[type=submit]", "credential found")
    page.click(f"a[href='/admin/credentials/{cti}']")
    operator.check("credential")
    assert old_kid in page.inner_text("main")  # the key that signed it
    tick(page, "action-suspend")
    tick(page, "confirm")
    operator.submit("main form button[type=submit]", "suspend without reason")
    assert page.locator(".error-summary a[href='#reason']").count() == 1
    assert page.is_checked("#action-suspend")
    assert service.registry.credential(cti)["state"] == "issued"
    page.fill("#reason", "휴대폰 분실 신고 (전화 접수)")
    tick(page, "confirm")
    operator.submit("main form button[type=submit]", "suspended")
    assert "일시 정지했습니다" in page.inner_text(".notice")
    assert "휴대폰 분실 신고 (전화 접수)" in page.inner_text("main")
    assert service.registry.credential(cti)["state"] == "suspended"
    assert gate_code(server, text, phone) == Code.STATUS_SUSPENDED  # published at once
    tick(page, "action-reinstate")
    page.fill("#reason", "휴대폰을 찾음")
    tick(page, "confirm")
    operator.submit("main form button[type=submit]", "reinstated")
    assert "정지를 해제했습니다" in page.inner_text(".notice")
    assert gate_code(server, text, phone) == Code.VALID
    assert re.search(r"/admin/credentials/[0-9a-f]{32}\?done=reinstate$", page.url)

    # -- the same pages in English
    operator.visit("/admin/keys?lang=en", "keys in english")
    assert page.inner_text("h1") == "Signing keys" and "Verify-only" in page.inner_text("tbody")

    # -- a reviewer is refused them
    reviewer = people("reviewer")
    sign_in(reviewer, "reviewer1", "reviewer start")
    for path in ("/admin/keys", "/admin/agencies/1613000", f"/admin/credentials/{cti}"):
        response = reviewer.page.goto(server.base_url + path)
        assert response is not None and response.status == 403
        reviewer.check("reviewer refused " + path)
    entries = [e for e in service.registry.audit_entries() if e["actor"].startswith("account:")]
    actions = [e["action"] for e in entries]
    for action in ("key_rotate", "agency_add", "agency_update", "suspend", "reinstate"):
        assert action in actions
    assert service.registry.audit_verify().ok
