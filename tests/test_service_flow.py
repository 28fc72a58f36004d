"""The seed flow over HTTP against uvicorn on 127.0.0.1, on SQLite and on a real PostgreSQL:
register, apply, upload, submit, review, request a document, answer, approve, offer, the wallet
redeems with a device proof, a gate verifies, phone lost -> the next bundle refuses it, new-phone
re-issue, refresh."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.pg import throwaway_cluster
from tests.test_service_kit import (
    PDF,
    LiveServer,
    apply_complete,
    credential,
    live_server,
    offer_code,
    proof,
    redeem,
    signed_in,
    token,
    upload,
)
from vcsdk import Ed25519PrivateKey
from vcsdk.errors import Code
from vcsdk.gate.core import Gate
from vcsdk.holder import present
from vcsdk.registry import audit
from vcsdk.verify.verifier import Verifier


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[str]:
    with throwaway_cluster(port=54339) as url:
        yield url


def fresh_pg_database(cluster: str) -> str:
    name = "svc_" + secrets.token_hex(4)
    engine = create_engine(cluster, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return cluster.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    if request.param == "sqlite":
        database = str(tmp_path / "registry.sqlite")
    else:
        database = fresh_pg_database(request.getfixturevalue("pg_cluster"))
    with live_server(tmp_path / "data", database) as live:
        yield live


def gate_for(live: LiveServer) -> Gate:
    gate = Gate([live.settings.anchor_key.public_key], clock=live.clock)
    response = httpx.get(live.base + "/bundle", timeout=30)
    assert response.status_code == 200
    gate.load(response.content)
    return gate


def test_the_seed_flow_end_to_end(server: LiveServer) -> None:
    live = server
    applicant = signed_in(live.base, "minjun.kim@example.go.kr")
    reviewer = live.staff("reviewer.park", role="reviewer")

    application_id = apply_complete(applicant, live.clock())
    assert applicant.post(f"/api/applications/{application_id}/submit").json()["state"] == "submitted"

    queue = reviewer.get("/api/reviews").json()["queue"]
    assert [item["id"] for item in queue] == [application_id]
    assert queue[0]["overdue"] is False and queue[0]["own"] is False

    asked = reviewer.post(f"/api/reviews/{application_id}/request-documents", {"reason": "stamp missing"})
    assert asked.json()["state"] == "more_documents_requested", asked.text
    seen = applicant.get(f"/api/applications/{application_id}").json()
    assert seen["state"] == "more_documents_requested" and seen["reason"] == "stamp missing"
    answered = upload(
        applicant, application_id, "recommendation", "stamped.pdf", PDF + b"stamped", "application/pdf",
        {"signed_by": "Director PARK (stamp)"},
    )  # fmt: skip
    assert answered.status_code == 201, answered.text
    assert applicant.post(f"/api/applications/{application_id}/submit").json()["state"] == "resubmitted"
    approved = reviewer.post(f"/api/reviews/{application_id}/approve", {"reason": "all in order"})
    assert approved.json()["state"] == "approved", approved.text

    # offer -> wallet redeems with a proof by its device key
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    assert offer["kind"] == "issue" and len(offer["tx_code"]) == 6 and offer["tx_code"].isdigit()
    assert offer["tx_code"] not in offer["offer_uri"] and offer["tx_code"] not in str(offer["credential_offer"])
    png = applicant.get(offer["qr_png"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    phone_a = Ed25519PrivateKey.generate()
    text_a = redeem(live.base, offer, phone_a, live.clock())

    gate = gate_for(live)  # the bundle's policy is if-bound: the phone shows a presentation
    verified = gate.verify(present(text_a, phone_a, now=live.clock()))
    assert verified.holder_key is not None and verified.holder_key.to_jwk() == phone_a.public_key.to_jwk()
    assert verified.claims_json()["name"] == "김민준"
    cti_a = verified.credential_id.hex()
    record = applicant.get(f"/api/credentials/{cti_a}").json()
    assert record["state"] == "issued" and "qr_text" not in record

    # phone lost: suspended at once, the next bundle refuses it
    lost = applicant.post(f"/api/credentials/{cti_a}/report-lost")
    assert lost.json()["state"] == "suspended", lost.text
    assert gate_for(live).check(text_a).code == Code.STATUS_SUSPENDED

    # new phone: a re-issue offer, redeemed with another device key
    offer2 = applicant.post(f"/api/applications/{application_id}/offer").json()
    assert offer2["kind"] == "reissue"
    phone_b = Ed25519PrivateKey.generate()
    text_b = redeem(live.base, offer2, phone_b, live.clock())
    gate = gate_for(live)
    assert gate.check(text_a).code == Code.STATUS_REVOKED
    verified_b = gate.verify(present(text_b, phone_b, now=live.clock()))
    assert verified_b.holder_key is not None and verified_b.holder_key.to_jwk() == phone_b.public_key.to_jwk()

    # refresh: same device key, fresh credential and status index; the old one retired
    refused = httpx.post(
        live.base + "/wallet/refresh",
        json={"credential": text_b, "proofs": {"cwt": [proof(live.base, phone_a, live.clock())]}},
        timeout=30,
    )
    assert refused.status_code == 400 and refused.json()["code"] == "KEY_PROOF_INVALID"
    refreshed = httpx.post(
        live.base + "/wallet/refresh",
        json={"credential": text_b, "proofs": {"cwt": [proof(live.base, phone_b, live.clock())]}},
        timeout=30,
    )
    assert refreshed.status_code == 200, refreshed.text
    text_c = refreshed.json()["credentials"][0]["credential"]
    gate = gate_for(live)
    verified_c = gate.verify(present(text_c, phone_b, now=live.clock()))
    assert verified_c.credential_id != verified_b.credential_id
    assert verified_c.status is not None and verified_b.status is not None
    assert verified_c.status.idx != verified_b.status.idx
    assert gate.check(text_b).code == Code.STATUS_REVOKED

    # the refreshed-away credential cannot be refreshed again
    again = httpx.post(
        live.base + "/wallet/refresh",
        json={"credential": text_b, "proofs": {"cwt": [proof(live.base, phone_b, live.clock())]}},
        timeout=30,
    )
    assert again.status_code == 400 and again.json()["code"] == "STATUS_REVOKED"

    # every action is in an intact audit chain under authenticated accounts
    report = live.service.registry.audit_verify()
    assert report.ok and report.entries >= 15, report.to_json()
    with live.service.engine.connect() as conn:
        log = list(audit.rows(conn))
    actors = {row["actor"] for row in log}
    assert all(actor.startswith("account:") for actor in actors - {"test"}), actors
    created = {row["subject"]: row["actor"] for row in log if row["action"] == "account_created"}
    reviewer_id = reviewer.get("/api/session").json()["account"]["id"]
    applicant_id = applicant.get("/api/session").json()["account"]["id"]
    assert created[applicant_id] == f"account:{applicant_id}"  # registered itself
    assert created[reviewer_id].startswith("account:") and created[reviewer_id] != f"account:{reviewer_id}"
    applicant.close()
    reviewer.close()


def test_operator_lifecycle_and_publication(server: LiveServer) -> None:
    live = server
    applicant = signed_in(live.base, "seoyeon.lee@example.go.kr")
    reviewer = live.staff("reviewer.choi", role="reviewer")
    operator = live.staff("operator.han")
    application_id = apply_complete(applicant, live.clock(), employee_id="2020-174-00777")
    applicant.post(f"/api/applications/{application_id}/submit")
    assert reviewer.post(f"/api/reviews/{application_id}/approve", {}).json()["state"] == "approved"
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    phone_a = Ed25519PrivateKey.generate()
    text_a = redeem(live.base, offer, phone_a, live.clock())
    cti = gate_for(live).verify(present(text_a, phone_a, now=live.clock())).credential_id.hex()

    # an applicant cannot operate; an operator can
    assert applicant.post(f"/api/credentials/{cti}/suspend", {}).status_code == 403
    assert operator.post(f"/api/credentials/{cti}/suspend", {}).json()["state"] == "suspended"
    assert gate_for(live).check(text_a).code == Code.STATUS_SUSPENDED
    # the holder cannot escape the office's suspension by moving the ID to a "new phone",
    # neither with a new offer nor with one made before the suspension
    assert operator.post(f"/api/credentials/{cti}/reinstate", {}).json()["state"] == "issued"
    early = applicant.post(f"/api/applications/{application_id}/offer").json()
    assert operator.post(f"/api/credentials/{cti}/suspend", {}).json()["state"] == "suspended"
    late = token(live.base, offer_code(early["offer_uri"], live.base), early["tx_code"]).json()["access_token"]
    refused = credential(live.base, late, proof(live.base, Ed25519PrivateKey.generate(), live.clock()))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_credential_request"
    assert "ACCESS_DENIED" in refused.json()["error_description"]
    escape = applicant.post(f"/api/applications/{application_id}/offer")
    assert escape.status_code == 403 and escape.json()["code"] == "ACCESS_DENIED"
    assert applicant.post(f"/api/credentials/{cti}/report-lost").status_code == 409  # already suspended
    assert applicant.post(f"/api/applications/{application_id}/offer").status_code == 403
    assert operator.post(f"/api/credentials/{cti}/reinstate", {}).json()["state"] == "issued"
    assert gate_for(live).check(present(text_a, phone_a, now=live.clock())).code == Code.VALID
    renewed = operator.post(f"/api/credentials/{cti}/renew", {})  # changed claims: review (registry's rule)
    assert renewed.status_code == 200, renewed.text
    new_cti = renewed.json()["new_cti"]
    assert gate_for(live).check(text_a).code == Code.STATUS_REVOKED
    assert (
        operator.post(f"/api/credentials/{new_cti}/revoke", {"reason": "left the service"}).json()["state"] == "revoked"
    )
    again = operator.post(f"/api/credentials/{new_cti}/reinstate", {})
    assert again.status_code == 409 and again.json()["code"] == "REGISTRY_TRANSITION_REFUSED"

    # publication: ETag, max-age from the ttl, 304 on If-None-Match
    phone_f = Ed25519PrivateKey.generate()
    fresh = present(redeem_free(live, phone_f), phone_f, now=live.clock())
    status_uri = gate_for(live).verify(fresh).status  # a fresh list entry proves the uri is served
    assert status_uri is not None
    path = status_uri.uri.removeprefix(live.base)
    first = httpx.get(live.base + path, timeout=30)
    assert first.status_code == 200 and first.headers["content-type"] == "application/statuslist+cwt"
    assert first.headers["cache-control"] == f"public, max-age={live.settings.status_ttl}"
    etag = first.headers["etag"]
    assert httpx.get(live.base + path, headers={"If-None-Match": etag}, timeout=30).status_code == 304
    assert httpx.get(live.base + path, headers={"If-None-Match": '"other"'}, timeout=30).status_code == 200
    for name in ("/trust-list", "/bundle"):
        response = httpx.get(live.base + name, timeout=30)
        assert response.status_code == 200 and response.headers["etag"]
    assert httpx.get(live.base + "/readyz", timeout=30).json()["status"] == "ready"
    applicant.close()
    reviewer.close()
    operator.close()


def test_a_promotion_goes_through_review_and_supersedes_the_credential(server: LiveServer) -> None:
    live = server
    applicant = signed_in(live.base, "jiho.yoon@example.go.kr")
    reviewer = live.staff("reviewer.kang", role="reviewer")
    application_id = apply_complete(applicant, live.clock(), employee_id="2021-174-00999")
    applicant.post(f"/api/applications/{application_id}/submit")
    reviewer.post(f"/api/reviews/{application_id}/approve", {})
    phone = Ed25519PrivateKey.generate()
    old_text = redeem(
        live.base, applicant.post(f"/api/applications/{application_id}/offer").json(), phone, live.clock()
    )
    cti = gate_for(live).verify(present(old_text, phone, now=live.clock())).credential_id.hex()
    other = signed_in(live.base, "not.the.holder@example.go.kr")
    assert other.post(f"/api/credentials/{cti}/change", {"changes": {"rank": "행정사무관"}}).status_code == 404
    change = applicant.post(f"/api/credentials/{cti}/change", {"changes": {"rank": "행정사무관"}})
    assert change.status_code == 201, change.text
    change_id = change.json()["id"]
    assert change.json()["claims"]["rank"] == "행정사무관" and change.json()["documents"]  # carried over
    assert applicant.post(f"/api/applications/{change_id}/submit").json()["state"] == "submitted"
    assert reviewer.post(f"/api/reviews/{change_id}/approve", {}).json()["state"] == "approved"
    offer = applicant.post(f"/api/applications/{change_id}/offer").json()
    new_text = redeem(live.base, offer, phone, live.clock())  # the same phone proves its key again
    gate = gate_for(live)
    assert gate.verify(present(new_text, phone, now=live.clock())).claims_json()["rank"] == "행정사무관"
    assert gate.check(old_text).code == Code.STATUS_REVOKED
    applicant.close()
    reviewer.close()
    other.close()


def redeem_free(live: LiveServer, phone: Ed25519PrivateKey | None = None) -> str:
    """A whole issuance for a new person (used where only a valid credential is needed)."""
    applicant = signed_in(live.base, f"user-{secrets.token_hex(4)}@example.go.kr")
    reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
    application_id = apply_complete(applicant, live.clock(), employee_id=f"E-{secrets.token_hex(4)}")
    applicant.post(f"/api/applications/{application_id}/submit")
    reviewer.post(f"/api/reviews/{application_id}/approve", {})
    offer = applicant.post(f"/api/applications/{application_id}/offer").json()
    text_value = redeem(live.base, offer, phone or Ed25519PrivateKey.generate(), live.clock())
    applicant.close()
    reviewer.close()
    return text_value


def test_metadata_matches_the_contract(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", str(tmp_path / "r.sqlite")) as live:
        issuer = httpx.get(live.base + "/.well-known/openid-credential-issuer", timeout=30).json()
        assert issuer["credential_issuer"] == live.base
        assert issuer["credential_endpoint"] == live.base + "/credential"
        assert issuer["nonce_endpoint"] == live.base + "/nonce"
        config = issuer["credential_configurations_supported"]["KR-GOV-OfficialID"]
        assert config["format"] == "vcsdk_gid1"
        assert config["proof_types_supported"] == {"cwt": {"proof_signing_alg_values_supported": [-8]}}
        assert config["cryptographic_binding_methods_supported"] == ["cose_key"]
        assert {d["locale"] for d in config["display"]} == {"ko", "en"}
        oauth = httpx.get(live.base + "/.well-known/oauth-authorization-server", timeout=30).json()
        assert oauth == {
            "issuer": live.base,
            "token_endpoint": live.base + "/token",
            "pre-authorized_grant_anonymous_access_supported": True,
        }
        nonce = httpx.post(live.base + "/nonce", timeout=30)
        assert nonce.headers["cache-control"] == "no-store" and len(nonce.json()["c_nonce"]) >= 16


def test_issued_credential_verifies_with_the_published_trust_list(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", str(tmp_path / "r.sqlite")) as live:
        text_value = redeem_free(live)
        verifier = Verifier([live.settings.issuer_key.public_key], clock=live.clock)
        assert verifier.check(text_value).code in (Code.VALID, Code.STATUS_UNKNOWN)
        assert datetime.fromtimestamp(live.clock(), tz=UTC) < datetime.now(tz=UTC) + timedelta(minutes=5)
