"""The seed flow clicked through in a real browser: an applicant (on a phone-size screen) and a
reviewer (desktop) in two browser contexts, ending with the wallet redeeming the credential offer
and the phone reported lost."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import httpx
from playwright.sync_api import FilePayload

from vcsdk import Ed25519PrivateKey, StatusPolicy, Verifier
from vcsdk.holder import make_key_proof, present
from vcsdk.qr.scan import scan

from .conftest import PASSWORD, PDF, Person, Server, png_photo


def today(server: Server) -> datetime:
    return datetime.fromtimestamp(server.clock(), tz=UTC)


def fill_application(person: Person) -> None:
    page = person.page
    page.fill("#name", "김민준")
    page.fill("#name_latin", "KIM MINJUN")
    page.fill("#birth_date", "1988-04-17")
    page.select_option("#agency_code", "1741000")
    page.fill("#unit", "디지털정부혁신실 공공데이터정책과")
    page.fill("#rank", "행정주사")
    page.fill("#position", "주무관")
    page.fill("#employee_id", "2019-174-00123")
    page.fill("#contact", "minjun.kim@mois.go.kr")


def upload(person: Person, kind: str, name: str, content: bytes, mime: str, label: str) -> None:
    payload: FilePayload = {"name": name, "mimeType": mime, "buffer": content}
    person.page.set_input_files("#file", files=[payload])
    person.submit("main form[enctype] button[type=submit]", label)


def redeem(server: Server, offer_uri: str, tx_code: str, device: Ed25519PrivateKey) -> str:
    """A small OpenID4VCI wallet: offer by reference -> token -> nonce -> credential with a key proof."""
    query = parse_qs(urlparse(offer_uri).query)
    offer_url = unquote(query["credential_offer_uri"][0])
    assert offer_url.startswith(server.base_url + "/offers/")
    with httpx.Client(timeout=10) as http:
        offer = http.get(offer_url).json()
        grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        assert "tx_code" in grant and tx_code not in json.dumps(offer)  # the code travels apart
        metadata = http.get(server.base_url + "/.well-known/openid-credential-issuer").json()
        token = http.post(
            server.base_url + "/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                "pre-authorized_code": grant["pre-authorized_code"],
                "tx_code": tx_code,
            },
        )
        assert token.status_code == 200, token.text
        nonce = http.post(metadata["nonce_endpoint"]).json()["c_nonce"]
        proof = make_key_proof(device, audience=server.base_url, nonce=nonce, issued_at=int(time.time()))
        response = http.post(
            metadata["credential_endpoint"],
            headers={"authorization": "Bearer " + token.json()["access_token"]},
            json={
                "credential_configuration_id": "KR-GOV-OfficialID",
                "proofs": {"cwt": [base64.urlsafe_b64encode(proof).rstrip(b"=").decode()]},
            },
        )
        assert response.status_code == 200, response.text
        qr_text: str = response.json()["credentials"][0]["credential"]
        return qr_text


def seed_overdue(server: Server) -> None:
    """An application submitted six days ago by someone else (so the queue shows one overdue)."""
    service = server.service
    server.clock.offset = -6 * 86400
    try:
        account = service.accounts.create("parkseoyeon", PASSWORD, "applicant", created_by="test")
        claims = {
            "name": "박서연",
            "birth_date": "1990-02-03",
            "agency_code": 1051000,
            "agency": "기획재정부",
            "rank": "사무관",
            "employee_id": "2020-105-00042",
        }
        application = service.registry.apply(applicant=account.actor, claims=claims, contact="sy.park@moef.go.kr")
        day = datetime.fromtimestamp(server.clock(), tz=UTC).date()
        for kind, meta, content in (
            ("identity_document", {"type": "passport", "number": "M1234567", "expiry": "2031-01-01"}, PDF),
            ("photo", {"captured": (day - timedelta(days=10)).isoformat()}, png_photo()),
            ("position_certificate", {}, PDF),
            ("recommendation", {"signed_by": "과장 최지훈"}, PDF),
            ("fee_payment", {"amount": 0, "method": "none", "receipt": "no fee"}, b'{"amount": 0}'),
        ):
            service.storage.put(content)
            service.registry.attach(application, kind, meta, content, actor=account.actor)
        service.registry.submit(application, actor=account.actor)
    finally:
        server.clock.offset = 0


def test_seed_flow_applicant_and_reviewer(server: Server, people: Callable[..., Person]) -> None:
    seed_overdue(server)
    applicant: Person = people("applicant", phone=True)
    reviewer: Person = people("reviewer")
    page = applicant.page

    # -- the start page, then an account
    applicant.visit("/", "start")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert "대한민국 공식 전자정부 누리집" in page.inner_text("#krds-masthead")
    page.click("text=신청 시작하기")
    applicant.check("sign-up")
    page.fill("#username", "kimminjun")
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    applicant.submit("main form button[type=submit]", "sign-up done")
    assert page.url.endswith("/applications/new")

    # -- the application form: a missing field shows a summary linking to it; input is kept
    fill_application(applicant)
    page.fill("#rank", "")
    page.fill("#birth_date", "1988-13-45")
    applicant.submit("main form button[type=submit]", "form errors")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("a[href='#rank']").count() == 1
    assert summary.locator("a[href='#birth_date']").count() == 1
    assert page.input_value("#name") == "김민준" and page.input_value("#contact") == "minjun.kim@mois.go.kr"
    assert page.locator("#rank[aria-invalid=true]").count() == 1
    page.fill("#rank", "행정주사")
    page.fill("#birth_date", "1988-04-17")
    # a unit name that does not fit even the bound budget (QR version 20, 702 characters)
    page.fill("#unit", "".join(chr(0xAC00 + (i * 389) % 11172) for i in range(90)))
    applicant.submit("main form button[type=submit]", "form too long for the qr")
    assert "QR 코드에 다 들어가지 않습니다" in page.inner_text(".error-summary")
    assert page.locator(".error-summary a[href='#unit']").count() == 1
    page.fill("#unit", "")  # optional: a unit too long for the QR code can be left out
    applicant.submit("main form button[type=submit]", "form saved")
    assert "/documents" in page.url
    application_id = page.url.split("/applications/")[1].split("/")[0]
    assert page.locator(".doc-status-missing").count() == 4

    # -- documents: wrong file type first, then the right one; the typed details survive
    page.click("a[href$='/documents/identity_document']")
    applicant.check("identity document")
    page.click("label[for=id_type-resident_card]")
    page.fill("#id_number", "880417-1234567")
    page.fill("#id_expiry", "2031-12-31")
    upload(applicant, "identity_document", "id.txt", b"just text", "text/plain", "identity wrong type")
    assert "PDF, JPEG 또는 PNG 파일만" in page.inner_text(".error-summary")
    assert page.is_checked("#id_type-resident_card") and page.input_value("#id_number") == "880417-1234567"
    # a scan far over the size limit: the same form with a clear message, the details still there
    big = PDF + b"0" * (server.settings.max_upload_bytes + 200_000)
    upload(applicant, "identity_document", "scan.pdf", big, "application/pdf", "identity file too large")
    assert "5MB보다 커서 올리지 않았습니다" in page.inner_text(".error-summary")
    assert page.is_checked("#id_type-resident_card") and page.input_value("#id_expiry") == "2031-12-31"
    assert page.input_value("#id_number") == "880417-1234567"
    upload(applicant, "identity_document", "id.pdf", PDF, "application/pdf", "identity uploaded")
    assert page.locator(".doc-status-missing").count() == 3

    # -- the photo: too old first (the message says the limit), then a good one, previewed with its checks
    page.click("a[href$='/documents/photo']")
    applicant.check("photo")
    old = (today(server) - timedelta(days=400)).date().isoformat()
    page.fill("#captured", old)
    upload(applicant, "photo", "photo.png", png_photo(), "image/png", "photo too old")
    assert "6개월 이내" in page.inner_text(".error-summary")
    assert page.input_value("#captured") == old
    recent = (today(server) - timedelta(days=20)).date().isoformat()
    page.fill("#captured", recent)
    upload(applicant, "photo", "square.png", png_photo(400, 400), "image/png", "photo wrong shape")
    assert "3.5:4.5가 아닙니다" in page.inner_text(".error-summary")
    assert page.input_value("#captured") == recent
    upload(applicant, "photo", "photo.png", png_photo(), "image/png", "photo preview")
    assert page.locator(".photo-preview img").is_visible()
    assert page.locator(".check-list .check-ok").count() == 3
    natural = page.evaluate("() => document.querySelector('.photo-preview img').naturalWidth")
    assert natural == 350  # the preview is the stored photo, served back to its applicant

    applicant.visit(f"/applications/{application_id}/documents/position_certificate", "certificate")
    upload(applicant, "position_certificate", "cert.pdf", PDF, "application/pdf", "certificate uploaded")
    applicant.visit(f"/applications/{application_id}/documents/recommendation", "recommendation")
    page.fill("#signed_by", "과장 이서연")
    upload(applicant, "recommendation", "rec.pdf", PDF, "application/pdf", "recommendation uploaded")
    assert page.locator(".doc-status-missing").count() == 0

    # -- the fee (10,000 KRW at this agency), recorded by card receipt
    page.click("text=계속")
    applicant.check("fee")
    assert "10,000원" in page.inner_text("main")
    applicant.submit("main form button[type=submit]", "fee errors")
    assert page.locator(".error-summary a[href='#method']").count() == 1
    page.click("label[for=method-card]")
    page.fill("#receipt", "CARD-2026-000123")
    applicant.submit("main form button[type=submit]", "check answers")
    assert "/submit" in page.url

    # -- submit; a second tab still showing the form submits again: nothing is sent twice
    second = applicant.context.new_page()
    second.goto(page.url)
    applicant.submit("main form button[type=submit]", "submitted")
    assert "심사를 기다리고" in page.inner_text("main")
    with second.expect_navigation():
        second.click("main form button[type=submit]")
    assert "이미 제출되었습니다" in second.inner_text("main")
    second.close()
    assert server.service.registry.show(application_id)["state"] == "submitted"

    # -- the reviewer: a wrong password first, then the queue with the overdue one flagged
    reviewer.visit("/login", "reviewer login")
    reviewer.page.fill("#username", "reviewer1")
    reviewer.page.fill("#password", "wrong password!")
    reviewer.submit("main form button[type=submit]", "reviewer wrong password")
    assert "아이디 또는 비밀번호가 틀렸습니다" in reviewer.page.inner_text(".error-summary")
    assert reviewer.page.input_value("#username") == "reviewer1"
    reviewer.page.fill("#password", PASSWORD)
    reviewer.submit("main form button[type=submit]", "review queue")
    rows = reviewer.page.locator("tbody tr")
    assert rows.count() == 2
    assert "박서연" in rows.nth(0).inner_text() and "기한 지남" in rows.nth(0).inner_text()
    assert reviewer.page.locator("tr.overdue").count() == 1
    reviewer.visit("/review?overdue=1", "queue overdue only")
    assert reviewer.page.locator("tbody tr").count() == 1

    # -- the application side by side; asking for documents needs a reason
    reviewer.visit(f"/review/{application_id}", "review application")
    assert reviewer.page.locator(".doc-card").count() == 5
    assert reviewer.page.locator(".doc-card img").evaluate("img => img.naturalWidth") == 350
    reviewer.page.click("label[for=decision-request_documents]")
    reviewer.submit("main form button[type=submit]", "review reason missing")
    assert reviewer.page.locator(".error-summary a[href='#reason']").count() == 1
    assert reviewer.page.is_checked("#decision-request_documents")
    reviewer.page.fill("#reason", "추천서에 날인이 보이지 않습니다. 날인된 추천서를 다시 올려 주세요.")
    reviewer.submit("main form button[type=submit]", "queue after request")

    # -- the applicant sees the request, answers it and resubmits
    applicant.visit(f"/applications/{application_id}", "status documents requested")
    assert "날인된 추천서" in page.inner_text(".notice-warning")
    page.click(".notice-warning >> text=서류 올리기")
    applicant.check("documents requested")
    page.click("a[href$='/documents/recommendation']")
    applicant.check("recommendation again")
    assert page.input_value("#signed_by") == "과장 이서연"
    upload(
        applicant,
        "recommendation",
        "rec-stamped.pdf",
        PDF + b"%stamp\n",
        "application/pdf",
        "recommendation again done",
    )
    applicant.visit(f"/applications/{application_id}/submit", "resubmit")
    applicant.submit("main form button[type=submit]", "resubmitted")
    assert server.service.registry.show(application_id)["state"] == "resubmitted"

    # -- the reviewer approves and reads the audit trail
    reviewer.visit(f"/review/{application_id}", "review again")
    reviewer.page.click("label[for=decision-approve]")
    reviewer.submit("main form button[type=submit]", "approved")
    reviewer.visit(f"/review/{application_id}/audit", "audit trail")
    actions = reviewer.page.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert actions.count("승인") == 1 and "서류 추가 요청" in actions

    # -- approved: the transaction code on one page, the QR on the next; the wallet redeems
    applicant.visit(f"/applications/{application_id}", "status approved")
    applicant.submit("main form button.krds-btn.primary", "transaction code")
    tx_code = page.inner_text("#tx-code").strip()
    assert tx_code.isdigit() and len(tx_code) == 6
    page.click("text=다음: QR 코드 보기")
    applicant.check("offer qr")
    assert tx_code not in page.content()
    offer_uri = page.get_attribute("#offer-link", "href") or ""
    assert offer_uri.startswith("openid-credential-offer://?credential_offer_uri=")
    image = page.get_attribute("#offer-qr", "src") or ""
    scanned = scan(base64.b64decode(image.split(",", 1)[1]))
    assert [code.text for code in scanned] == [offer_uri]  # the QR says what the link says
    device = Ed25519PrivateKey.generate()
    qr_text = redeem(server, offer_uri, tx_code, device)
    shown = present(qr_text, device, now=int(time.time()))  # the gate wants the phone's presentation
    # the keys the service signs with now (an operator test may have rotated the configured one)
    keys = server.service.keys.verify_keys(server.clock())
    verified = Verifier(keys, status_policy=StatusPolicy.ALLOW_UNKNOWN).verify(shown)
    assert verified.claims.name == "김민준"
    assert verified.holder_key is not None and verified.holder_key.to_jwk() == device.public_key.to_jwk()

    # -- issued: the credential page with its state and next refresh; the phone is lost
    applicant.visit(f"/applications/{application_id}", "status issued")
    page.click(".doc-list >> text=보기")
    applicant.check("credential")
    assert "발급됨" in page.inner_text("main") and "다음 자동 갱신" in page.inner_text("main")
    page.click("text=분실 신고")
    applicant.check("lost confirm")
    applicant.submit("main form button[type=submit]", "lost reported")
    assert "일시 정지" in page.inner_text("main")
    cti = page.url.split("/my-id/")[1].split("?")[0]
    assert server.service.registry.credential(cti)["state"] == "suspended"
    assert verified.credential_id.hex() == cti

    # -- a new phone: another code and QR; the new device's credential replaces the lost one
    applicant.submit("main form button.krds-btn.secondary", "new phone code")
    new_code = page.inner_text("#tx-code").strip()
    page.click("text=다음: QR 코드 보기")
    applicant.check("new phone qr")
    new_device = Ed25519PrivateKey.generate()
    new_text = redeem(server, page.get_attribute("#offer-link", "href") or "", new_code, new_device)
    renewed = Verifier(keys, status_policy=StatusPolicy.ALLOW_UNKNOWN).verify(
        present(new_text, new_device, now=int(time.time()))
    )
    assert renewed.holder_key is not None and renewed.holder_key.to_jwk() == new_device.public_key.to_jwk()
    assert server.service.registry.credential(cti)["state"] == "superseded"
    assert server.service.registry.credential(renewed.credential_id.hex())["state"] == "issued"
    applicant.visit(f"/my-id/{cti}", "old credential replaced")
    assert "재발급으로 교체" in page.inner_text("main")

    # -- English is one click away, and the page keeps its place
    page.click("a[hreflang=en]")
    applicant.check("credential english")
    assert page.locator("html").get_attribute("lang") == "en" and "Replaced" in page.inner_text("main")

    # -- the office suspends the new one: the holder is told to contact the office, not offered a move
    new_cti = renewed.credential_id.hex()
    server.service.registry.suspend(new_cti, actor="account:operator-test")
    server.service.wallet.record_suspension(new_cti, "operator")
    applicant.visit(f"/my-id/{new_cti}?lang=ko", "office suspension")
    assert "소속 기관의 공무원증 담당 부서에 문의" in page.inner_text("main")
    assert page.locator("form[action$='/new-phone']").count() == 0
