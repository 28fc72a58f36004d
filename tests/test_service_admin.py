"""The operator's web forms over HTTP against uvicorn on 127.0.0.1: key rotation (verify-only old
key, withdrawal), agencies and fees, a credential's suspend/reinstate/revoke/renew, and an upload
over the body limit answered by its form page. Each is attacked: another role, no CSRF token, no
confirmation, a form sent twice, ids that do not exist, hostile values."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("jinja2")

from tests.test_service_kit import (
    PDF,
    Client,
    LiveServer,
    apply_complete,
    live_server,
    redeem,
    signed_in,
)
from vcsdk import Ed25519PrivateKey
from vcsdk.errors import Code
from vcsdk.gate.core import Gate
from vcsdk.holder import present
from vcsdk.service.signing import ServiceKeys
from vcsdk.trust.store import KeyState


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("admin")
    with live_server(folder / "data", str(folder / "registry.sqlite"), login_max_failures=1000) as server:
        yield server


def form(client: Client, path: str, data: dict[str, str], *, csrf: bool = True) -> httpx.Response:
    """A web form POST (urlencoded, the CSRF token as a form field), redirects not followed."""
    body = {**data, "csrf_token": client.csrf} if csrf else dict(data)
    return client.http.post(path, data=body, follow_redirects=False)


def agency_seen(client: Client, code: str) -> dict[str, str]:
    """The hidden ``seen`` field of an agency's form (what the operator saw)."""
    found = re.search(r'name="seen" value="([0-9a-f]+)"', client.get(f"/admin/agencies/{code}").text)
    assert found is not None
    return {"seen": found.group(1)}


def issued(live: LiveServer) -> tuple[str, Ed25519PrivateKey, str]:
    """A fresh applicant's bound credential: (QR text, device key, cti)."""
    applicant = signed_in(live.base, f"holder-{secrets.token_hex(4)}@example.go.kr")
    application_id = apply_complete(applicant, live.clock(), employee_id=f"E-{secrets.token_hex(4)}")
    applicant.post(f"/api/applications/{application_id}/submit")
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    assert reviewer.post(f"/api/reviews/{application_id}/approve", {}).json()["state"] == "approved"
    phone = Ed25519PrivateKey.generate()
    text = redeem(live.base, applicant.post(f"/api/applications/{application_id}/offer").json(), phone, live.clock())
    cti = str(live.service.registry.show(application_id)["credentials"][-1]["cti"])
    applicant.close()
    reviewer.close()
    return text, phone, cti


def gate_code(live: LiveServer, text: str, phone: Ed25519PrivateKey) -> Code:
    gate = Gate([live.settings.anchor_key.public_key], clock=live.clock)
    gate.load(httpx.get(live.base + "/bundle", timeout=30).content)
    return gate.check(present(text, phone, now=live.clock())).code


def audit_actions(live: LiveServer, subject_prefix: str) -> list[dict[str, Any]]:
    return [e for e in live.service.registry.audit_entries() if str(e["subject"]).startswith(subject_prefix)]


def trust_kids(live: LiveServer) -> dict[str, str]:
    """kid -> state of the keys in the published trust list (read through a gate)."""
    from vcsdk.trust.trustlist import open_trust_list

    raw = httpx.get(live.base + "/trust-list", timeout=30).content
    listed, _ = open_trust_list(raw, [live.settings.anchor_key.public_key], now=live.clock())
    return {k.kid.hex(): k.state.value for k in listed.keys}


# ------------------------------------------------------------------ keys


def test_rotation_keeps_old_credentials_valid_and_cannot_be_replayed(live: LiveServer) -> None:
    keys = live.service.keys
    first_kid = keys.active_kid()
    assert first_kid == live.settings.issuer_key.kid.hex()
    old_text, old_phone, old_cti = issued(live)
    assert gate_code(live, old_text, old_phone) == Code.VALID
    operator = live.staff(f"op-{secrets.token_hex(3)}")
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    good = {"expected": first_kid, "confirm": "yes"}

    # refused: another role, no CSRF token, no confirmation, a kid that is not the active one
    assert form(reviewer, "/admin/keys/rotate", good).status_code == 403
    assert form(operator, "/admin/keys/rotate", good, csrf=False).status_code == 400
    unconfirmed = form(operator, "/admin/keys/rotate", {"expected": first_kid})
    assert unconfirmed.status_code == 400 and 'id="confirm-error"' in unconfirmed.text
    assert form(operator, "/admin/keys/rotate", {"expected": "00" * 8, "confirm": "yes"}).status_code == 409
    assert keys.active_kid() == first_kid and len(keys.keyring().records) == 1

    rotated = form(operator, "/admin/keys/rotate", good)
    assert rotated.status_code == 303
    new_kid = keys.active_kid()
    assert new_kid != first_kid and rotated.headers["location"] == f"/admin/keys?done=rotated&kid={new_kid}"
    page = operator.get(rotated.headers["location"]).text
    assert new_kid in page and first_kid in page
    # the same form again (a double click, the back button, a replay) changes nothing
    again = form(operator, "/admin/keys/rotate", good)
    assert again.status_code == 409 and keys.active_kid() == new_kid and len(keys.keyring().records) == 2
    entries = audit_actions(live, "key:")
    assert [e["action"] for e in entries] == ["key_rotate"]
    assert entries[0]["actor"].startswith("account:") and entries[0]["data"]["previous"] == first_kid

    # the trust list names both keys; the old one verify-only; old and new credentials verify
    assert trust_kids(live) == {first_kid: KeyState.RETIRED.value, new_kid: KeyState.ACTIVE.value}
    assert gate_code(live, old_text, old_phone) == Code.VALID
    new_text, new_phone, new_cti = issued(live)
    assert live.service.registry.credential(new_cti)["kid"] == new_kid
    assert live.service.registry.credential(old_cti)["kid"] == first_kid
    assert gate_code(live, new_text, new_phone) == Code.VALID

    # another worker on the same keyring signs with the new key
    other = ServiceKeys(live.settings, live.service.engine, live.clock)
    assert other.signing_key(live.clock()).kid.hex() == new_kid

    # withdrawal: not the active key, not by a reviewer, not unconfirmed; then old credentials fail
    assert form(operator, f"/admin/keys/{new_kid}", {"confirm": "yes"}).status_code == 400
    assert form(reviewer, f"/admin/keys/{first_kid}", {"confirm": "yes"}).status_code == 403
    assert form(operator, f"/admin/keys/{first_kid}", {}).status_code == 400
    assert operator.get("/admin/keys/" + "ab" * 8).status_code == 404
    assert operator.get("/admin/keys/..%2F..%2Fetc").status_code == 404
    assert first_kid in trust_kids(live)
    withdrawn = form(operator, f"/admin/keys/{first_kid}", {"confirm": "yes"})
    assert withdrawn.status_code == 303
    assert trust_kids(live) == {new_kid: KeyState.ACTIVE.value}
    assert gate_code(live, old_text, old_phone) == Code.KEY_NOT_IN_TRUST_LIST
    assert gate_code(live, new_text, new_phone) == Code.VALID
    assert [e["action"] for e in audit_actions(live, "key:")] == ["key_rotate", "key_withdraw"]
    assert live.service.registry.audit_verify().ok
    operator.close()
    reviewer.close()


# ------------------------------------------------------------------ agencies and fees


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": "12", "fee": "5000"}, "code", "7 digits"),
        ({"code": "abcdefg", "fee": "5000"}, "code", "7 digits"),
        ({"code": "1741000", "fee": "5000"}, "code", "exists already"),
        ({"code": "1600000", "fee": "-1"}, "fee", "whole number"),
        ({"code": "1600000", "fee": "abc"}, "fee", "whole number"),
        ({"code": "1600000", "fee": "1e3"}, "fee", "whole number"),
        ({"code": "1600000", "fee": "١٠٠"}, "fee", "whole number"),
        ({"code": "1600000", "fee": str(10**12)}, "fee", "between 0 and 1,000,000"),
        ({"code": "1600000", "fee": ""}, "fee", "whole number"),
        ({"code": "1600000", "fee": "0", "name_ko": ""}, "name_ko", "Enter the name in Korean"),
    ],
)
def test_bad_agency_input_is_refused_with_a_message_and_kept(
    live: LiveServer, fields: dict[str, str], field: str, message: str
) -> None:
    operator = live.staff(f"op-{secrets.token_hex(3)}")
    operator.http.cookies.set("lang", "en")
    before = live.service.agencies.all()
    data = {"name_ko": "국토교통부", "name_en": "Ministry of Land", **fields}
    response = form(operator, "/admin/agencies", data)
    assert response.status_code == 400
    assert f'href="#{field}"' in response.text and message in response.text
    if fields["fee"]:
        assert f'value="{fields["fee"]}"' in response.text  # what was typed is kept
    assert live.service.agencies.all() == before
    operator.close()


def test_agencies_are_added_repriced_and_deactivated(live: LiveServer) -> None:
    operator = live.staff(f"op-{secrets.token_hex(3)}")
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    applicant = signed_in(live.base, f"app-{secrets.token_hex(4)}@example.go.kr")
    new = {"code": "1613000", "name_ko": "국토교통부", "name_en": "Ministry of Land", "fee": "7,000"}
    assert form(reviewer, "/admin/agencies", new).status_code == 403
    assert form(operator, "/admin/agencies", new, csrf=False).status_code == 400
    assert form(applicant, "/admin/agencies", new).status_code == 403
    added = form(operator, "/admin/agencies", new)
    assert added.status_code == 303 and live.service.agencies.fee_of(1613000) == 7000
    assert "국토교통부" in applicant.get("/applications/new").text  # offered to applicants at once

    # fee 0 allowed; bad fees refused with the page and the values kept; unknown agencies 404
    assert (
        form(
            operator,
            "/admin/agencies/1613000",
            {"fee": "0", "name_en": "MOLIT", "active": "yes", **agency_seen(operator, "1613000")},
        ).status_code
        == 303
    )
    assert live.service.agencies.fee_of(1613000) == 0
    for fee in ("-1", "abc", str(10**12)):
        seen = agency_seen(operator, "1613000")
        refused = form(operator, "/admin/agencies/1613000", {"fee": fee, "name_en": "MOLIT", "active": "yes", **seen})
        assert refused.status_code == 400 and f'value="{fee}"' in refused.text
    assert live.service.agencies.fee_of(1613000) == 0
    for code in ("9999999", "abc", "1613000x", "0000000"):
        assert operator.get(f"/admin/agencies/{code}").status_code == 404
        assert form(operator, f"/admin/agencies/{code}", {"fee": "1", "active": "yes"}).status_code == 404
    assert form(reviewer, "/admin/agencies/1613000", {"fee": "1", "active": "yes"}).status_code == 403

    # deactivated: no longer offered in the form, still listed for operators
    assert (
        form(
            operator,
            "/admin/agencies/1613000",
            {"fee": "0", "name_en": "MOLIT", "active": "no", **agency_seen(operator, "1613000")},
        ).status_code
        == 303
    )
    assert "국토교통부" not in applicant.get("/applications/new").text
    assert "국토교통부" in operator.get("/admin/agencies").text
    actions = [(e["action"], e["data"]) for e in audit_actions(live, "agency:1613000")]
    assert [a for a, _ in actions] == ["agency_add", "agency_update", "agency_update"]
    assert actions[1][1]["fee"] == [7000, 0] and actions[2][1] == {"active": [True, False]}
    stored = json.loads(live.service.agencies.path.read_text(encoding="utf-8"))
    assert any(a["code"] == 1613000 and a["active"] is False for a in stored["agencies"])
    operator.close()
    reviewer.close()
    applicant.close()


# ------------------------------------------------------------------ a credential's lifecycle


def test_operator_suspends_reinstates_revokes_and_renews_from_the_pages(live: LiveServer) -> None:
    text, phone, cti = issued(live)
    operator = live.staff(f"op-{secrets.token_hex(3)}")
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    holder = signed_in(live.base, f"nosy-{secrets.token_hex(4)}@example.go.kr")
    path = f"/admin/credentials/{cti}"

    found = operator.get("/admin/credentials", params={"q": cti[:10]}).text
    assert path in found
    assert path in operator.get("/admin/credentials", params={"q": "김민준"}).text
    assert path not in operator.get("/admin/credentials", params={"q": "nobody-like-this"}).text
    for wild in ("%", "_", "\\", "'"):  # LIKE wildcards and quotes are literal text
        assert path not in operator.get("/admin/credentials", params={"q": wild}).text
    for who in (reviewer, holder):
        assert who.get("/admin/credentials").status_code == 403
        assert who.get(path).status_code == 403
        assert (
            form(who, path, {"action": "suspend", "reason": "x", "confirm": "yes", "seen": "issued"}).status_code == 403
        )
    for missing in ("0" * 32, "../../etc/passwd", "ZZ" * 16):
        assert operator.get(f"/admin/credentials/{missing}").status_code == 404

    suspend = {"action": "suspend", "reason": "휴대폰 분실 신고 (전화)", "confirm": "yes", "seen": "issued"}
    assert form(operator, path, suspend, csrf=False).status_code == 400
    for bad in ({"reason": ""}, {"confirm": ""}, {"action": "explode"}, {"action": "reinstate"}, {"reason": "x" * 501}):
        response = form(operator, path, {**suspend, **bad})
        assert response.status_code == 400 and "error-summary" in response.text
        assert live.service.registry.credential(cti)["state"] == "issued"
    done = form(operator, path, suspend)
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=suspend"
    assert "상태 목록을 다시 게시했습니다" in operator.get(done.headers["location"]).text
    assert live.service.registry.credential(cti)["state"] == "suspended"
    assert gate_code(live, text, phone) == Code.STATUS_SUSPENDED  # republished at once
    twice = form(operator, path, suspend)  # the same form sent again
    assert twice.status_code == 409 and live.service.registry.credential(cti)["state"] == "suspended"

    reinstate = {"action": "reinstate", "reason": "found", "confirm": "yes", "seen": "suspended"}
    assert form(operator, path, reinstate).status_code == 303
    assert gate_code(live, text, phone) == Code.VALID
    renewed = form(operator, path, {"action": "renew", "reason": "periodic", "confirm": "yes", "seen": "issued"})
    assert renewed.status_code == 303
    new_cti = re.fullmatch(r"/admin/credentials/([0-9a-f]{32})\?done=renew", renewed.headers["location"])
    assert new_cti is not None and new_cti.group(1) != cti
    assert live.service.registry.credential(cti)["state"] == "superseded"
    revoke = {"action": "revoke", "reason": "left the service", "confirm": "yes", "seen": "issued"}
    assert form(operator, f"/admin/credentials/{new_cti.group(1)}", revoke).status_code == 303
    assert live.service.registry.credential(new_cti.group(1))["state"] == "revoked"
    assert live.service.registry.credential(new_cti.group(1))["reason"] == "left the service"
    entries = [e for e in live.service.registry.audit_entries() if e["subject"] in (cti, new_cti.group(1))]
    mine = [(e["action"], e["data"].get("reason")) for e in entries if e["action"] != "issue"]
    assert ("suspend", "휴대폰 분실 신고 (전화)") in mine and ("reinstate", "found") in mine
    assert ("revoke", "left the service") in mine and ("renew_reason", "periodic") in mine
    assert live.service.registry.audit_verify().ok
    for who in (operator, reviewer, holder):
        who.close()


# ------------------------------------------------------------------ an upload over the body limit


def test_an_upload_over_the_limit_shows_the_form_with_what_was_typed(live: LiveServer) -> None:
    applicant = signed_in(live.base, f"big-{secrets.token_hex(4)}@example.go.kr")
    created = applicant.post(
        "/api/applications",
        {
            "claims": {
                "name": "김민준",
                "birth_date": "1988-04-17",
                "agency_code": 1741000,
                "agency": "행정안전부",
                "rank": "행정주사",
                "employee_id": f"E-{secrets.token_hex(4)}",
            },
            "contact": "minjun.kim@example.go.kr",
        },
    )
    application_id = created.json()["id"]
    path = f"/applications/{application_id}/documents/identity_document"
    fields = {"id_type": "passport", "id_number": "M7654321", "id_expiry": "2033-05-06", "csrf_token": applicant.csrf}
    limit = live.settings.max_upload_bytes
    # just over the file limit (read by the page) and far over the body limit (cut off by the
    # body-limit middleware, which hands the page the fields sent before the file)
    for big in (PDF + b"0" * (limit + 10), PDF + b"0" * (limit + 400_000)):
        response = applicant.http.post(path, data=fields, files={"file": ("scan.pdf", big, "application/pdf")})
        assert response.status_code == 413 and response.headers["content-type"].startswith("text/html")
        assert "0.28MB보다 커서 올리지 않았습니다" in response.text  # 300,000 bytes, rounded down
        assert 'id="file-error"' in response.text and 'href="#file"' in response.text
        assert 'value="M7654321"' in response.text and 'value="2033-05-06"' in response.text
        assert re.search(r'value="passport"\s+checked', response.text)
        assert not live.service.registry.show(application_id)["documents"]  # nothing stored
    big = PDF + b"0" * (limit + 400_000)
    # without the CSRF token the over-limit form is refused like any other form
    no_csrf = {k: v for k, v in fields.items() if k != "csrf_token"}
    refused = applicant.http.post(path, data=no_csrf, files={"file": ("scan.pdf", big, "application/pdf")})
    assert refused.status_code == 400 and "M7654321" not in refused.text
    # the JSON API keeps its problem+json answer
    api = applicant.http.post(
        f"/api/applications/{application_id}/documents",
        data={"kind": "identity_document", "meta": "{}", "csrf_token": applicant.csrf},
        files={"file": ("scan.pdf", big, "application/pdf")},
    )
    assert api.status_code == 413 and api.json()["code"] == "UPLOAD_REFUSED"
    # a file within the limit still goes through the same form
    fine = applicant.http.post(path, data=fields, files={"file": ("scan.pdf", PDF, "application/pdf")})
    assert fine.status_code == 303
    assert [d["kind"] for d in live.service.registry.show(application_id)["documents"]] == ["identity_document"]
    applicant.close()


def test_the_status_page_shows_the_publication_and_when_it_expired(live: LiveServer) -> None:
    """Runs last on the shared server: it moves the clock past the files' validity."""
    operator = live.staff(f"op-{secrets.token_hex(3)}")
    assert form(operator, "/admin/status", {}).status_code == 303
    page = operator.get("/admin/status").text
    manifest = live.service.publisher.manifest()
    assert manifest is not None
    assert live.service.keys.active_kid() in page and f">{manifest['version']}<" in page
    assert "신뢰 목록과 게이트 번들" in page and "유효기간이 지났습니다" not in page
    operator.close()
    live.clock.advance(live.settings.status_validity + 1)  # nobody re-signed in time
    operator = live.staff(f"op-{secrets.token_hex(3)}")
    assert "유효기간이 지났습니다" in operator.get("/admin/status").text
    assert form(operator, "/admin/status", {}).status_code == 303
    assert "유효기간이 지났습니다" not in operator.get("/admin/status").text
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    assert reviewer.get("/admin/status").status_code == 403
    assert form(reviewer, "/admin/status", {}).status_code == 403
    operator.close()
    reviewer.close()


def test_the_keyring_follows_the_configured_key(tmp_path: Path) -> None:
    """A configured key the keyring does not hold becomes the active key on the next start; a
    keyring of another issuer is refused."""
    from tests.test_service_kit import make_settings
    from vcsdk.errors import KeyInvalid
    from vcsdk.service.core import Service

    settings = make_settings(tmp_path / "data", str(tmp_path / "r.sqlite"), port=1)
    first = Service(settings)
    assert first.keys.active_kid() == settings.issuer_key.kid.hex()
    first.close()
    replaced = Ed25519PrivateKey.generate()
    second = Service(make_settings(tmp_path / "data", str(tmp_path / "r.sqlite"), port=1, issuer_key=replaced))
    assert second.keys.active_kid() == replaced.kid.hex()
    states = {r.kid: r.state for r in second.keys.keyring().records}
    assert states == {settings.issuer_key.kid.hex(): KeyState.RETIRED, replaced.kid.hex(): KeyState.ACTIVE}
    second.close()
    with pytest.raises(KeyInvalid):
        Service(make_settings(tmp_path / "data", str(tmp_path / "r.sqlite"), port=1, issuer_id="KR-OTHER"))


@pytest.mark.parametrize(
    ("size", "shown"),
    [(5 * 1024 * 1024, "5"), (300_000, "0.28"), (1024 * 1024 + 512 * 1024, "1.5"), (15 * 1024 * 1024 + 1, "15")],
)
def test_the_upload_limit_is_stated_without_rounding_up(size: int, shown: str) -> None:
    from vcsdk.service.web.documents import megabytes

    assert megabytes(size) == shown
