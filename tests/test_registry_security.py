"""Hardening of the issuer registry, on SQLite and on a real PostgreSQL: a tamper-evident audit
log (chain, head, signed checkpoints, reconciliation), no stored QR texts, private files,
atomic renewal, reviewed changes, checked actors, and device-bound issuance with one-time nonces.
"""

from __future__ import annotations

import os
import queue as queues
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import NOW
from tests.registry_world import KEY, approved, gate_code, raw_engine, registry
from vcsdk import Code, Ed25519PrivateKey, StatusPolicy, TrustStore, Verifier, fixed_clock
from vcsdk.errors import (
    ActorNotAuthorized,
    CredentialInvalid,
    KeyProofInvalid,
    RegistryTransitionRefused,
    UsageError,
)
from vcsdk.holder import make_key_proof
from vcsdk.registry import IssuerRegistry
from vcsdk.registry.audit import entry_hash, sign_checkpoint
from vcsdk.registry.stores import open_status_database

AUDIT_KEY = Ed25519PrivateKey(bytes(range(1, 33)))
DEVICE = Ed25519PrivateKey(bytes(range(2, 34)))
NEW_PHONE = Ed25519PrivateKey(bytes(range(3, 35)))


def _world(target: str) -> tuple[IssuerRegistry, str]:
    reg = registry(target)
    record = reg.issue(approved(reg), actor="lee")
    reg.suspend(record.cti, actor="ops")
    reg.issue(approved(reg, "E-2"), actor="lee")
    assert reg.audit_verify().ok
    return reg, record.cti


def _sql(target: str, *statements: str) -> None:
    with raw_engine(target).begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _head(target: str) -> tuple[int, str]:
    with raw_engine(target).connect() as conn:
        row = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    return int(row[0]), str(row[1])


# ------------------------------------------------------------------ #11.7 audit


def test_deleting_every_audit_row_is_detected(target: str) -> None:
    reg, _ = _world(target)
    _sql(target, "DELETE FROM audit_log")
    assert not reg.audit_verify().ok
    _sql(target, f"UPDATE audit_head SET seq = 0, hash = '{'0' * 64}'")  # and the head reset
    report = reg.audit_verify()
    assert not report.ok and any("not in the audit log" in p for p in report.problems)


def test_deleting_the_head_row_is_detected(target: str) -> None:
    reg, _ = _world(target)
    _sql(target, "DELETE FROM audit_head")
    report = reg.audit_verify()
    assert not report.ok and any(p.startswith("HEAD") for p in report.problems)


def test_truncating_the_tail_and_moving_the_head_back_needs_the_key(target: str) -> None:
    reg, _ = _world(target)
    checkpoint = reg.audit_checkpoint(AUDIT_KEY)
    trust = TrustStore([AUDIT_KEY.public_key])
    assert reg.audit_verify(checkpoints=[checkpoint], trust=trust).ok
    seq, _ = _head(target)
    with raw_engine(target).connect() as conn:
        kept = conn.execute(text(f"SELECT hash FROM audit_log WHERE seq = {seq - 2}")).scalar()
    # the attacker drops the last two entries (here: credential E-2's issuance) and moves the head
    _sql(
        target,
        f"DELETE FROM audit_log WHERE seq > {seq - 2}",
        f"UPDATE audit_head SET seq = {seq - 2}, hash = '{kept}'",
    )
    report = reg.audit_verify(checkpoints=[checkpoint], trust=trust)
    assert not report.ok
    assert any("truncated" in p for p in report.problems)
    with pytest.raises(UsageError):
        reg.audit_checkpoint(AUDIT_KEY)  # the registry never signs a log that does not verify
    seq_now, hash_now = _head(target)
    forged = sign_checkpoint("KR-MOIS", seq_now, hash_now, Ed25519PrivateKey(bytes(32)), issued_at=NOW)
    with pytest.raises(CredentialInvalid):
        reg.audit_verify(checkpoints=[forged], trust=trust)


def test_a_rewritten_chain_fails_the_checkpoint(target: str) -> None:
    """Recomputing every hash after an edit keeps the chain consistent, not the signed head."""
    reg, _ = _world(target)
    checkpoint = reg.audit_checkpoint(AUDIT_KEY)
    with raw_engine(target).begin() as conn:
        rows = conn.execute(text("SELECT seq, at, actor, action, subject, data FROM audit_log ORDER BY seq")).all()
        prev = "0" * 64
        for seq, at, actor, action, subject, data in rows:
            actor = "mallory" if seq == 2 else actor
            digest = entry_hash(prev, seq, at, actor, action, subject, data)
            conn.execute(
                text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"a": actor, "p": prev, "h": digest, "s": seq},
            )
            prev = digest
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    assert reg.audit_verify().ok  # without a checkpoint the rewrite is invisible
    report = reg.audit_verify(checkpoints=[checkpoint], trust=TrustStore([AUDIT_KEY.public_key]))
    assert not report.ok and any("rewritten" in p for p in report.problems)


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE credentials SET state = 'issued' WHERE state = 'suspended'",
        "UPDATE credentials SET expires_at = expires_at + 86400000",
        "UPDATE credentials SET claims = REPLACE(claims, '행정주사', '행정사무관')",
        "UPDATE status_entries SET status = 0 WHERE status = 2",
        "DELETE FROM credentials WHERE state = 'suspended'",
    ],
)
def test_editing_credentials_or_status_entries_is_detected(target: str, edit: str) -> None:
    reg, _ = _world(target)
    _sql(target, edit)
    report = reg.audit_verify()
    assert not report.ok, edit
    assert report.broken_at is None  # the chain itself is intact: reconciliation found it


def test_status_commands_refuse_a_registry_database(target: str) -> None:
    reg, cti = _world(target)
    with pytest.raises(UsageError, match="registry"):
        open_status_database(target)
    assert reg.credential(cti)["state"] == "suspended"


def test_audit_show_and_export_entries(target: str) -> None:
    reg, cti = _world(target)
    entries = list(reg.audit_entries())
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    mine = list(reg.audit_entries(subject=cti))
    assert [e["action"] for e in mine] == ["credential_issued", "suspend"]
    assert mine[1]["data"]["state"] == "suspended"


# ------------------------------------------------------------------ #11.8 files and QR texts


def test_no_qr_text_is_stored(target: str) -> None:
    reg = registry(target)
    record = reg.issue(approved(reg), actor="lee")
    assert record.qr_text.startswith("GID1:")
    with raw_engine(target).connect() as conn:
        tables = ["applications", "documents", "credentials", "audit_log", "registry_meta"]
        dump = " ".join(str(row) for table in tables for row in conn.execute(text(f"SELECT * FROM {table}")))
    assert "GID1:" not in dump
    assert record.qr_text[5:40] not in dump


def test_the_sqlite_database_and_its_journal_are_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "registry.sqlite"
        reg = registry(str(path))
        reg.issue(approved(reg), actor="lee")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir() if p.name.startswith(path.name)}
    finally:
        os.umask(old)
    assert modes[path.name] == 0o600
    assert set(modes.values()) == {0o600}, modes  # -wal and -shm too


# ------------------------------------------------------------------ #11.9 renewal, changes, actors


def test_a_failed_renewal_leaves_the_credential_as_it_was(target: str) -> None:
    calls: list[int] = []

    def flaky(now: int) -> Ed25519PrivateKey:
        calls.append(now)
        if len(calls) > 1:
            raise UsageError("the HSM is offline")
        return KEY

    reg = registry(target, signer=flaky)
    record = reg.issue(approved(reg), actor="lee")
    with pytest.raises(UsageError, match="HSM"):
        reg.renew(record.cti, actor="ops")
    assert reg.credential(record.cti)["state"] == "issued"
    assert gate_code(registry(target), record.qr_text, record.status.uri) == Code.VALID
    assert reg.audit_verify().ok


def test_a_change_of_rank_goes_through_review(target: str) -> None:
    reg = registry(target)
    record = reg.issue(approved(reg), actor="lee")
    for changes in ({"rank": "행정사무관"}, {"agency_code": 1311000}, {"employee_id": "E-9"}):
        with pytest.raises(RegistryTransitionRefused, match="review"):
            reg.renew(record.cti, actor="ops", changes=changes)
        with pytest.raises(RegistryTransitionRefused, match="review"):
            reg.reissue(record.cti, actor="ops", changes=changes)
    change = reg.apply_change(record.cti, applicant="kim", changes={"rank": "행정사무관"})
    with pytest.raises(RegistryTransitionRefused):
        reg.issue(change, actor="ops")  # not reviewed
    reg.submit(change, actor="kim")
    with pytest.raises(ActorNotAuthorized):
        reg.review(change, reviewer="ops")  # an operator is not a reviewer
    reg.review(change, reviewer="lee")
    reg.approve(change, reviewer="lee")
    new = reg.issue(change, actor="ops")
    assert reg.credential(record.cti)["state"] == "superseded"
    assert gate_code(reg, record.qr_text, record.status.uri) == Code.STATUS_REVOKED
    lenient = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    assert lenient.verify(new.qr_text).claims.rank == "행정사무관"
    assert reg.audit_verify().ok


def test_actors_are_checked_against_the_configured_lists(target: str) -> None:
    reg = registry(target)
    app = approved(reg)
    with pytest.raises(ActorNotAuthorized):
        reg.issue(app, actor="mallory")
    record = reg.issue(app, actor="ops")
    for call in (
        lambda: reg.suspend(record.cti, actor="kim"),
        lambda: reg.revoke(record.cti, actor="mallory"),
        lambda: reg.expire(actor="intruder"),
        lambda: reg.set_actors(reviewers=["x"], operators=["x"], actor="kim"),
    ):
        with pytest.raises(ActorNotAuthorized):
            call()
    assert reg.credential(record.cti)["state"] == "issued"


def test_revoke_reason_is_recorded(target: str) -> None:
    reg = registry(target)
    record = reg.issue(approved(reg), actor="lee")
    reg.revoke(record.cti, actor="ops", reason="left the service")
    found = reg.lookup(record.cti)
    assert found is not None and found.reason == "left the service"
    last = list(reg.audit_entries(subject=record.cti))[-1]
    assert last["data"]["reason"] == "left the service"


# ------------------------------------------------------------------ #12 device-bound issuance


def _proof(reg: IssuerRegistry, device: Ed25519PrivateKey = DEVICE, nonce: str | None = None) -> bytes:
    return make_key_proof(device, audience="KR-MOIS", nonce=nonce or reg.nonce(), issued_at=NOW)


def _holder_key(qr: str) -> Any:
    # holder binding off: this reads the cnf of a bare bound credential (a gate wants a presentation)
    policy = StatusPolicy.ALLOW_UNKNOWN
    lenient = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=policy, holder_binding="off")
    return lenient.verify(qr).holder_key


def test_issue_binds_the_proven_device_key(target: str) -> None:
    reg = registry(target)
    app = approved(reg, device_key=DEVICE.public_key)
    with pytest.raises(KeyProofInvalid):
        reg.issue(app, actor="ops")  # a recorded device key is never bound without its proof
    with pytest.raises(KeyProofInvalid):
        reg.issue(app, actor="ops", key_proof=_proof(reg, NEW_PHONE))  # another key than the application's
    proof = _proof(reg)
    record = reg.issue(app, actor="ops", key_proof=proof)
    assert _holder_key(record.qr_text).raw == DEVICE.public_key.raw
    found = reg.lookup(record.cti)
    assert found is not None and found.device_key is not None and found.device_key.raw == DEVICE.public_key.raw
    assert reg.lookup("00" * 16) is None
    with pytest.raises(KeyProofInvalid, match="used"):  # each nonce once
        reg.reissue(record.cti, actor="ops", key_proof=proof)


def test_nonces_must_be_issued_here_and_fresh(target: str) -> None:
    reg = registry(target)
    app = approved(reg)
    with pytest.raises(KeyProofInvalid, match="not issued"):
        reg.issue(app, actor="ops", key_proof=_proof(reg, nonce="made-up-by-the-wallet"))
    nonce = reg.nonce(ttl=60)
    later = IssuerRegistry.open(target, signer=lambda now: KEY, clock=fixed_clock(NOW + 120))
    stale = make_key_proof(DEVICE, audience="KR-MOIS", nonce=nonce, issued_at=NOW + 120)
    with pytest.raises(KeyProofInvalid, match="expired"):
        later.issue(app, actor="ops", key_proof=stale)
    other_issuer = make_key_proof(DEVICE, audience="KR-OTHER", nonce=reg.nonce(), issued_at=NOW)
    with pytest.raises(KeyProofInvalid):
        reg.issue(app, actor="ops", key_proof=other_issuer)
    assert reg.counts() == {}


def test_new_phone_reissue_refresh_and_report_lost(target: str) -> None:
    reg = registry(target)
    first = reg.issue(approved(reg, device_key=DEVICE.public_key), actor="ops", key_proof=_proof(reg))
    with pytest.raises(KeyProofInvalid):
        reg.reissue(first.cti, actor="ops", device_key=NEW_PHONE.public_key)  # no proof: refused
    second = reg.reissue_to_device(first.cti, actor="ops", key_proof=_proof(reg, NEW_PHONE))
    assert _holder_key(second.qr_text).raw == NEW_PHONE.public_key.raw
    assert second.status != first.status
    assert gate_code(reg, first.qr_text, first.status.uri) == Code.STATUS_REVOKED
    third = reg.refresh(second.cti, actor="ops")
    assert _holder_key(third.qr_text).raw == NEW_PHONE.public_key.raw
    assert third.status != second.status and third.cti != second.cti
    assert reg.report_lost(third.cti, actor="holder:kim") == "suspended"
    assert gate_code(reg, third.qr_text, third.status.uri) == Code.STATUS_SUSPENDED
    with pytest.raises(RegistryTransitionRefused):
        reg.refresh(third.cti, actor="ops")  # not while suspended
    assert reg.audit_verify().ok


# ------------------------------------------------------------------ upgrading a registry


def test_a_registry_from_revision_0001_upgrades_and_verifies(target: str) -> None:
    """Old credentials have audit entries without state, bit and digest: the migration adopts
    them, the stored QR text disappears, and tampering is detected from then on."""
    import json

    from alembic import command
    from alembic.config import Config

    from vcsdk.registry.audit import GENESIS
    from vcsdk.registry.db import MIGRATIONS, migrate, open_engine

    engine = open_engine(target)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    uri, cti = "https://id.mois.go.kr/sl/7", "ab" * 16
    old_entries = [
        ("kim", "apply", "app-1", {"person": "1741000:E-1"}),
        ("lee", "credential_issued", cti, {"status": [uri, 5]}),
    ]
    old_entries.append(("ops", "suspend", cti, {"from": "issued", "to": "suspended"}))
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO registry_meta VALUES ('status_config', :c), ('issuer_id', 'KR-MOIS')"),
            {"c": json.dumps({"uri_template": "https://id.mois.go.kr/sl/{n}", "bits": 2, "size": 131072, "first": 7})},
        )
        conn.execute(
            text(
                "INSERT INTO applications (id, state, applicant, person, claims, contact, created_at) "
                "VALUES ('app-1', 'issued', 'kim', '1741000:E-1', '{}', '0', 1)"
            )
        )
        conn.execute(text("INSERT INTO status_lists VALUES (:u, 7, 2, 131072, 1, 1)"), {"u": uri})
        conn.execute(text("INSERT INTO status_entries VALUES (:u, 5, 2, 1, 1)"), {"u": uri})
        conn.execute(
            text(
                "INSERT INTO credentials (cti, application_id, person, state, status_uri, status_idx, kid, "
                "issued_at, expires_at, qr_text, claims) "
                "VALUES (:c, 'app-1', '1741000:E-1', 'suspended', :u, 5, '00', 1, 2, 'GID1:OLD', '{}')"
            ),
            {"c": cti, "u": uri},
        )
        prev = GENESIS
        for seq, (actor, action, subject, data) in enumerate(old_entries, start=1):
            body = json.dumps(data, sort_keys=True)
            digest = entry_hash(prev, seq, seq, actor, action, subject, body)
            conn.execute(
                text("INSERT INTO audit_log VALUES (:s, :s, :a, :act, :sub, :d, :p, :h)"),
                {"s": seq, "a": actor, "act": action, "sub": subject, "d": body, "p": prev, "h": digest},
            )
            prev = digest
        conn.execute(text("INSERT INTO audit_head VALUES (1, :s, :h)"), {"s": len(old_entries), "h": prev})
    migrate(engine)
    reg = IssuerRegistry.open(target)
    report = reg.audit_verify()
    assert report.ok, report.problems
    assert [e["action"] for e in reg.audit_entries(subject=cti)][-1] == "adopt"
    found = reg.lookup(cti)
    assert found is not None and found.state == "suspended"
    with raw_engine(target).connect() as conn:
        columns = list(conn.execute(text("SELECT * FROM credentials")).keys())
    assert "qr_text" not in columns
    _sql(target, "UPDATE status_entries SET status = 0")
    assert not reg.audit_verify().ok


def test_issue_takes_a_key_proof_the_service_verified(target: str) -> None:
    """The HTTP service verifies the proof itself and hands over the KeyProof: the registry still
    checks the audience and consumes the nonce."""
    from vcsdk.holder import verify_key_proof

    reg = registry(target)
    checked = verify_key_proof(_proof(reg), audience="KR-MOIS", now=NOW)
    record = reg.issue(approved(reg, device_key=DEVICE.public_key), actor="ops", key_proof=checked)
    assert _holder_key(record.qr_text).raw == DEVICE.public_key.raw
    with pytest.raises(KeyProofInvalid, match="used"):
        reg.issue(approved(reg, "E-2", device_key=DEVICE.public_key), actor="ops", key_proof=checked)
    foreign = verify_key_proof(
        make_key_proof(DEVICE, audience="KR-OTHER", nonce=reg.nonce(), issued_at=NOW), audience="KR-OTHER", now=NOW
    )
    with pytest.raises(KeyProofInvalid, match="aud"):
        reg.issue(approved(reg, "E-3", device_key=DEVICE.public_key), actor="ops", key_proof=foreign)


def _race(target: str, app: str, proof: bytes, queue: Any) -> None:
    reg = IssuerRegistry.open(target, signer=lambda now: KEY, clock=fixed_clock(NOW))
    try:
        queue.put(("issued", reg.issue(app, actor="ops", key_proof=proof).cti))
    except KeyProofInvalid as exc:
        queue.put(("refused", exc.message))


def test_two_processes_racing_one_nonce_issue_once(target: str) -> None:
    import multiprocessing

    reg = registry(target)
    apps = [approved(reg, f"R-{n}", device_key=DEVICE.public_key) for n in range(2)]
    proof = _proof(reg)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_race, args=(target, app, proof, queue)) for app in apps]
    for worker in workers:
        worker.start()
    outcomes: list[str] = []
    while len(outcomes) < len(workers):  # fail fast if a worker dies instead of answering
        try:
            outcomes.append(queue.get(timeout=0.2)[0])
        except queues.Empty:
            assert all(w.exitcode in (None, 0) for w in workers), [w.exitcode for w in workers]
    outcomes.sort()
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == ["issued", "refused"]
    assert reg.counts() == {"issued": 1}
