"""The issuer registry on SQLite and on a real PostgreSQL: every workflow step and refusal,
concurrency across processes, crash safety, and audit-chain tamper detection."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from tests.conftest import NOW, ROOT, SEED
from tests.pg import throwaway_cluster
from vcsdk import Code, Ed25519PrivateKey, StatusPolicy, TrustStore, Verifier, fixed_clock
from vcsdk.errors import (
    ActiveCredentialExists,
    ApplicationIncomplete,
    RecordNotFound,
    RegistryTransitionRefused,
    ReviewerConflict,
)
from vcsdk.registry import IssuerRegistry
from vcsdk.registry.db import url_for
from vcsdk.revocation import RegistryConfig, StatusListChecker

KEY = Ed25519PrivateKey(SEED)
CONFIG = RegistryConfig("https://id.mois.go.kr/sl/{n}", first=7)
CLAIMS = {
    k: v
    for k, v in json.loads((ROOT / "examples" / "reference-claims.json").read_text()).items()
    if k != "photo_digest"
}


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    with throwaway_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "registry.sqlite")
    base: str = request.getfixturevalue("postgres")
    name = "t" + uuid.uuid4().hex[:12]
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.replace("/postgres?", f"/{name}?")


def registry(target: str, clock_at: int = NOW) -> IssuerRegistry:
    return IssuerRegistry.create(
        target, CONFIG, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=fixed_clock(clock_at)
    )


def photo(size: tuple[int, int] = (350, 450)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="JPEG")
    return out.getvalue()


def complete_application(reg: IssuerRegistry, employee: str = "2019-174-00123", applicant: str = "kim") -> str:
    app = reg.apply(applicant=applicant, claims={**CLAIMS, "employee_id": employee}, contact="010-1234-5678")
    reg.attach(
        app,
        "identity_document",
        {"type": "resident_card", "number": "880417-1", "expiry": "2030-01-01"},
        b"id",
        actor=applicant,
    )
    reg.attach(app, "photo", {"captured": "2026-05-01"}, photo(), actor=applicant)
    reg.attach(app, "position_certificate", {"issued_by": "MOIS"}, b"cert", actor=applicant)
    reg.attach(app, "recommendation", {"signed_by": "park"}, b"rec", actor=applicant)
    reg.attach(app, "fee_payment", {"amount": 10000, "method": "card", "receipt": "R-1"}, b"pay", actor=applicant)
    return app


def approved(reg: IssuerRegistry, employee: str = "2019-174-00123") -> str:
    app = complete_application(reg, employee)
    reg.submit(app, actor="kim")
    reg.review(app, reviewer="lee")
    reg.approve(app, reviewer="lee")
    return app


def gate_code(reg: IssuerRegistry, qr: str, uri: str) -> Code:
    checker = StatusListChecker(TrustStore([KEY.public_key]))
    checker.load(reg.export_status(uri, KEY), NOW)
    return Verifier([KEY.public_key], clock=fixed_clock(NOW), status=checker).check(qr).code


def test_the_whole_seed_flow(target: str) -> None:
    reg = registry(target)
    app = complete_application(reg)
    assert reg.check(app) == []
    assert reg.submit(app, actor="kim") == "submitted"
    assert reg.review(app, reviewer="lee") == "under_review"
    assert reg.request_documents(app, reviewer="lee", reason="photo too dark") == "more_documents_requested"
    reg.attach(app, "photo", {"captured": "2026-05-20"}, photo((700, 900)), actor="kim")
    assert reg.submit(app, actor="kim") == "resubmitted"
    assert reg.review(app, reviewer="lee") == "under_review"
    assert reg.approve(app, reviewer="lee") == "approved"
    record = reg.issue(app, actor="lee")
    assert gate_code(reg, record.qr_text, record.status.uri) == Code.VALID
    reg.suspend(record.cti, actor="ops")  # phone lost
    assert gate_code(reg, record.qr_text, record.status.uri) == Code.STATUS_SUSPENDED
    reg.reinstate(record.cti, actor="ops")
    assert gate_code(reg, record.qr_text, record.status.uri) == Code.VALID
    # new phone (a device key in cnf would push the full reference claims past the v18-Q budget)
    second = reg.reissue(record.cti, actor="ops")
    assert second.status != record.status
    assert gate_code(reg, record.qr_text, record.status.uri) == Code.STATUS_REVOKED
    assert gate_code(reg, second.qr_text, second.status.uri) == Code.VALID
    third = reg.renew(second.cti, actor="ops", changes={"rank": "행정사무관"})  # promotion
    lenient = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    assert lenient.verify(third.qr_text).claims.rank == "행정사무관"
    assert gate_code(reg, second.qr_text, second.status.uri) == Code.STATUS_REVOKED
    reg.revoke(third.cti, actor="ops")
    assert gate_code(reg, third.qr_text, third.status.uri) == Code.STATUS_REVOKED
    with pytest.raises(RegistryTransitionRefused):
        reg.reinstate(third.cti, actor="ops")
    shown = reg.show(app)
    assert shown["state"] == "issued"
    assert [c["state"] for c in shown["credentials"]].count("revoked") == 1
    assert shown["sla"]["late"] is False
    assert reg.audit_verify() == (len(_audit_rows(target)), None)


@pytest.mark.parametrize(
    ("action", "state"),
    [("review", "draft"), ("approve", "submitted"), ("issue", "under_review"), ("submit", "approved")],
)
def test_refused_transitions(target: str, action: str, state: str) -> None:
    reg = registry(target)
    app = complete_application(reg)
    steps = ["submit", "review", "approve"]
    order = {"draft": 0, "submitted": 1, "under_review": 2, "approved": 3}
    for step in steps[: order[state]]:
        getattr(reg, step)(app, **({"actor": "kim"} if step == "submit" else {"reviewer": "lee"}))
    call: dict[str, Callable[[], object]] = {
        "review": lambda: reg.review(app, reviewer="lee"),
        "approve": lambda: reg.approve(app, reviewer="lee"),
        "issue": lambda: reg.issue(app, actor="lee"),
        "submit": lambda: reg.submit(app, actor="kim"),
    }
    with pytest.raises(RegistryTransitionRefused):
        call[action]()


def test_completeness_problems_are_all_listed(target: str) -> None:
    reg = registry(target)
    app = reg.apply(applicant="kim", claims=CLAIMS, contact="x")
    reg.attach(
        app, "identity_document", {"type": "passport", "number": "M1", "expiry": "2020-01-01"}, b"id", actor="kim"
    )
    reg.attach(app, "photo", {"captured": "2025-01-01"}, photo((400, 400)), actor="kim")
    reg.attach(app, "recommendation", {}, b"rec", actor="kim")
    reg.attach(app, "fee_payment", {"amount": 5000, "method": "cash"}, b"pay", actor="kim")
    with pytest.raises(ApplicationIncomplete) as info:
        reg.submit(app, actor="kim")
    codes = {line.split(":")[0] for line in info.value.details}
    assert codes == {
        "DOCUMENT_MISSING", "IDENTITY_EXPIRED", "PHOTO_TOO_OLD", "PHOTO_ASPECT",
        "PHOTO_RESOLUTION", "RECOMMENDATION_UNSIGNED", "FEE_AMOUNT", "FEE_METHOD", "FEE_RECEIPT",
    }  # fmt: skip


def test_reviewer_conflict_one_credential_per_person_and_missing_records(target: str) -> None:
    reg = registry(target)
    app = complete_application(reg, applicant="lee")
    reg.submit(app, actor="lee")
    with pytest.raises(ReviewerConflict):
        reg.review(app, reviewer="lee")
    first = reg.issue(approved(reg, "E-1"), actor="lee")
    with pytest.raises(ActiveCredentialExists):
        reg.issue(approved(reg, "E-1"), actor="lee")
    with pytest.raises(RecordNotFound):
        reg.suspend("00" * 16, actor="ops")
    reg.revoke(first.cti, actor="ops")
    with pytest.raises(RegistryTransitionRefused):
        reg.suspend(first.cti, actor="ops")
    assert reg.issue(approved(reg, "E-1"), actor="lee").cti != first.cti  # after revocation a new one may come


def _audit_rows(target: str) -> list[Any]:
    engine = create_engine(url_for(target))
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT seq FROM audit_log")))


def test_tampering_with_the_audit_log_is_detected(target: str) -> None:
    reg = registry(target)
    reg.issue(approved(reg), actor="lee")
    total, broken = reg.audit_verify()
    assert broken is None
    engine = create_engine(url_for(target))
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4"))
    assert reg.audit_verify() == (total, 4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'kim' WHERE seq = 4"))
        conn.execute(text(f"DELETE FROM audit_log WHERE seq = {total}"))
    assert reg.audit_verify()[1] == total - 1  # the cut tail no longer matches the head


# ------------------------------------------------------------------ processes


def _issue_worker(target: str, prefix: str, count: int, queue: Any) -> None:
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=fixed_clock(NOW))
    results = []
    for i in range(count):
        app = approved(reg, f"{prefix}-{i}")
        record = reg.issue(app, actor="lee")
        results.append((record.cti, record.status.uri, record.status.idx))
    queue.put(results)


def test_concurrent_processes_issue_without_duplicates(target: str) -> None:
    registry(target)  # create and migrate
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_issue_worker, args=(target, f"P{n}", 12, queue)) for n in range(3)]
    for worker in workers:
        worker.start()
    results = [item for _ in workers for item in queue.get(timeout=300)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(results) == 36
    assert len({cti for cti, _, _ in results}) == 36
    assert len({(uri, idx) for _, uri, idx in results}) == 36
    _consistent(target)


def _consistent(target: str) -> None:
    """No half-written state: counters, entries, credentials and applications agree."""
    engine = create_engine(url_for(target))
    with engine.connect() as conn:
        allocated = conn.execute(text("SELECT COALESCE(SUM(allocated), 0) FROM status_lists")).scalar()
        entries = conn.execute(text("SELECT COUNT(*) FROM status_entries")).scalar()
        credentials = conn.execute(text("SELECT COUNT(*) FROM credentials")).scalar()
        orphans = conn.execute(text(
            "SELECT COUNT(*) FROM credentials c LEFT JOIN status_entries e "
            "ON e.uri = c.status_uri AND e.idx = c.status_idx WHERE e.idx IS NULL"
        )).scalar()  # fmt: skip
        issued_apps = conn.execute(text("SELECT COUNT(*) FROM applications WHERE state = 'issued'")).scalar()
        apps_with_credentials = conn.execute(text("SELECT COUNT(DISTINCT application_id) FROM credentials")).scalar()
    assert allocated == entries == credentials
    assert orphans == 0
    assert issued_apps == apps_with_credentials
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS")
    assert reg.audit_verify()[1] is None


BULK = """
import sys
sys.path.insert(0, {root!r})
from tests.test_registry import _bulk
_bulk({target!r})
"""


def _bulk(target: str) -> None:
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=fixed_clock(NOW))
    for i in range(10_000):
        reg.issue(approved(reg, f"B-{os.getpid()}-{i}"), actor="lee")
        print(i, flush=True)


def test_sigkill_during_bulk_issuance_leaves_nothing_half_written(target: str) -> None:
    registry(target)
    rng = random.Random(5)
    for _ in range(3):
        process = subprocess.Popen(
            [sys.executable, "-c", BULK.format(root=str(ROOT), target=target)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        assert process.stdout is not None
        process.stdout.readline()  # at least one issued
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        _consistent(target)
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=fixed_clock(NOW))
    reg.issue(approved(reg, "after-crash"), actor="lee")  # and it carries on
    _consistent(target)


def test_claiming_a_taken_index_is_refused(target: str) -> None:
    """Regression: psycopg reported rowcount -1 for ON CONFLICT DO NOTHING, so a taken index
    looked free and issuance failed on the credentials' unique (uri, idx) constraint."""
    from vcsdk.registry.service import _ConnStore

    reg = registry(target)
    engine = create_engine(url_for(target))
    with engine.begin() as conn:
        store = _ConnStore(conn, CONFIG)
        store.add_list(7, CONFIG.uri(7), 2, CONFIG.size, NOW)
        assert store.claim(CONFIG.uri(7), 42, NOW) is True
        assert store.claim(CONFIG.uri(7), 42, NOW) is False
        assert store.lists()[0].allocated == 1
    del reg


def test_every_refused_application_transition() -> None:
    """Every (state, action) pair the workflow does not allow is refused with the code."""
    from vcsdk.registry.workflow import APPLICATION_TRANSITIONS, next_state

    actions = {a for moves in APPLICATION_TRANSITIONS.values() for a in moves}
    refused = 0
    for state, moves in APPLICATION_TRANSITIONS.items():
        for action in actions:
            if action in moves:
                assert next_state(state, action) == moves[action]
            else:
                with pytest.raises(RegistryTransitionRefused):
                    next_state(state, action)
                refused += 1
    assert refused == len(APPLICATION_TRANSITIONS) * len(actions) - sum(map(len, APPLICATION_TRANSITIONS.values()))


def test_expiry_sweep(target: str) -> None:
    reg = registry(target)
    record = reg.issue(approved(reg), actor="lee")
    later = IssuerRegistry.open(target, clock=fixed_clock(record.expires_at + 1))
    assert later.expire(actor="cron") == 1
    assert later.credential(record.cti)["state"] == "expired"
    assert later.expire(actor="cron") == 0
    with pytest.raises(RegistryTransitionRefused):
        later.suspend(record.cti, actor="ops")
