"""The issuer registry on SQLite and on a real PostgreSQL: every workflow step and refusal,
concurrency across processes, crash safety, and audit-chain tamper detection."""

from __future__ import annotations

import multiprocessing
import os
import queue as queues
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.conftest import NOW, ROOT
from tests.registry_world import (
    CLAIMS,
    CONFIG,
    KEY,
    approved,
    complete_application,
    gate_code,
    photo,
    raw_engine,
    registry,
)
from vcsdk import Code, StatusPolicy, Verifier, fixed_clock
from vcsdk.errors import (
    ActiveCredentialExists,
    ActorNotAuthorized,
    ApplicationIncomplete,
    FileError,
    RecordNotFound,
    RegistryTransitionRefused,
    ReviewerConflict,
    UsageError,
)
from vcsdk.registry import IssuerRegistry, SQLStatusStore


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
    change = reg.apply_change(second.cti, applicant="kim", changes={"rank": "행정사무관"})  # promotion: reviewed
    reg.submit(change, actor="kim")
    reg.review(change, reviewer="lee")
    reg.approve(change, reviewer="lee")
    third = reg.issue(change, actor="ops")
    lenient = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    assert lenient.verify(third.qr_text).claims.rank == "행정사무관"
    assert gate_code(reg, second.qr_text, second.status.uri) == Code.STATUS_REVOKED
    reg.revoke(third.cti, actor="ops")
    assert gate_code(reg, third.qr_text, third.status.uri) == Code.STATUS_REVOKED
    with pytest.raises(RegistryTransitionRefused):
        reg.reinstate(third.cti, actor="ops")
    shown = reg.show(app)
    assert shown["state"] == "issued"
    assert [c["state"] for c in shown["credentials"]] == ["superseded", "superseded"]
    assert reg.show(change)["credentials"][0]["state"] == "revoked"
    assert shown["sla"]["late"] is False
    report = reg.audit_verify()
    assert (report.ok, report.entries) == (True, len(_audit_rows(target))), report.problems


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
    with raw_engine(target).connect() as conn:
        return list(conn.execute(text("SELECT seq FROM audit_log")))


def test_tampering_with_the_audit_log_is_detected(target: str) -> None:
    reg = registry(target)
    reg.issue(approved(reg), actor="lee")
    report = reg.audit_verify()
    assert report.ok, report.problems
    engine = raw_engine(target)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4"))
    assert reg.audit_verify().broken_at == 4
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'kim' WHERE seq = 4"))
        conn.execute(text(f"DELETE FROM audit_log WHERE seq = {report.entries}"))
    assert reg.audit_verify().broken_at == report.entries - 1  # the cut tail no longer matches the head


# ------------------------------------------------------------------ processes


def _issue_worker(target: str, prefix: str, count: int, queue: Any) -> None:
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=fixed_clock(NOW))
    if os.environ.get("VCSDK_TEST_BREAK_WORKER") == prefix:  # the fail-fast check (see the test)
        raise SystemExit(3)
    results = []
    for i in range(count):
        app = approved(reg, f"{prefix}-{i}")
        record = reg.issue(app, actor="lee")
        results.append((record.cti, record.status.uri, record.status.idx))
    queue.put(results)


def _collect(workers: list[Any], queue: Any, deadline_s: float = 240.0) -> list[Any]:
    """One result per worker; fail at once (not after a long timeout) when a worker dies."""
    results: list[Any] = []
    deadline = time.monotonic() + deadline_s
    while len(results) < len(workers):
        try:
            results.append(queue.get(timeout=0.2))
        except queues.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            assert not dead, f"a worker crashed (exit codes {dead})"
            assert time.monotonic() < deadline, "workers made no progress"
    return results


def test_concurrent_processes_issue_without_duplicates(target: str) -> None:
    registry(target)  # create and migrate
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_issue_worker, args=(target, f"P{n}", 12, queue)) for n in range(3)]
    for worker in workers:
        worker.start()
    try:
        results = [item for batch in _collect(workers, queue) for item in batch]
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert len(results) == 36
    assert len({cti for cti, _, _ in results}) == 36
    assert len({(uri, idx) for _, uri, idx in results}) == 36
    _consistent(target)


def test_a_crashed_worker_fails_fast(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector notices a dead worker within a second instead of waiting for a timeout."""
    registry(target)
    monkeypatch.setenv("VCSDK_TEST_BREAK_WORKER", "P1")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_issue_worker, args=(target, f"P{n}", 1, queue)) for n in range(2)]
    for worker in workers:
        worker.start()
    started = time.monotonic()
    with pytest.raises(AssertionError, match="crashed"):
        _collect(workers, queue, deadline_s=120.0)
    assert time.monotonic() - started < 60  # generous bound: the point is "not the deadline"
    for worker in workers:
        worker.join(timeout=60)


def _consistent(target: str) -> int:
    """No half-written state: counters, entries, credentials and applications agree; the audit
    log reconciles. Returns the number of credentials."""
    with raw_engine(target).connect() as conn:
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
    report = IssuerRegistry.open(target, issuer_id="KR-MOIS").audit_verify()
    assert report.ok, report.problems
    return int(credentials or 0)


CRASH_CHILD = """
import sys
sys.path.insert(0, {root!r})
from tests.test_registry import _crash_child
_crash_child({target!r}, {stop_at!r})
"""


class _TrapClock:
    """A clock that, once armed, blocks on its ``stop_at``-th call: the kill lands inside issue()."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at = stop_at
        self.armed = False
        self.calls = 0

    def __call__(self) -> int:
        if self.armed:
            self.calls += 1
            if self.calls == self.stop_at:
                print("inside", flush=True)
                time.sleep(600)
        return NOW


def _crash_child(target: str, stop_at: int) -> None:
    clock = _TrapClock(stop_at)
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=clock)
    apps = [approved(reg, f"B-{os.getpid()}-{i}") for i in range(3)]
    for i, app in enumerate(apps[:2]):
        reg.issue(app, actor="lee")
        print(f"issued {i}", flush=True)
    clock.armed = True
    reg.issue(apps[2], actor="lee")  # never returns: killed inside
    print("returned", flush=True)


def _line(process: subprocess.Popen[bytes], timeout: float = 120.0) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        return "<nothing in time>"
    return process.stdout.readline().decode().strip()


def _sigkill_inside(source: str, what: str) -> None:
    """Run the child ``source``; once it printed "issued 0", "issued 1", "inside" (it blocks
    there, mid-write), kill it with SIGKILL."""
    process = subprocess.Popen(
        [sys.executable, "-c", source],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        bufsize=0,  # unbuffered: select() then sees every line that readline() has not consumed
    )
    try:
        lines = [_line(process) for _ in range(3)]
        if process.poll() is not None or lines != ["issued 0", "issued 1", "inside"]:
            process.kill()
            stderr = process.communicate(timeout=30)[1].decode(errors="replace")
            pytest.fail(f"the child did not {what}: {lines}\n{stderr[-2000:]}")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


# The clock calls inside issue(): 1 before allocation, 2 when the index is claimed, 3 when the
# credential row is written (its audit entry), 4 when the application moves to issued.
@pytest.mark.parametrize("stop_at", [2, 3, 4])
def test_sigkill_inside_issuance_leaves_nothing_half_written(target: str, stop_at: int) -> None:
    registry(target)
    _sigkill_inside(
        CRASH_CHILD.format(root=str(ROOT), target=target, stop_at=stop_at), "issue twice and block inside issue()"
    )
    assert _consistent(target) == 2  # the two finished issuances, not a trace of the third
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=fixed_clock(NOW))
    reg.issue(approved(reg, "after-crash"), actor="lee")  # and it carries on
    assert _consistent(target) == 3


CRASH_BATCH_CHILD = """
import sys
sys.path.insert(0, {root!r})
from tests.test_registry import _crash_batch_child
_crash_batch_child({target!r}, {stop_at!r})
"""


def _crash_batch_child(target: str, stop_at: int) -> None:
    clock = _TrapClock(stop_at)
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=clock)
    apps = [approved(reg, f"B-{os.getpid()}-{i}") for i in range(5)]
    assert all(not isinstance(r, Exception) for r in reg.issue_many(apps[:2], actor="lee", batch_size=2))
    print("issued 0", flush=True)
    print("issued 1", flush=True)
    clock.armed = True
    reg.issue_many(apps[2:], actor="lee", batch_size=3)  # never returns: killed inside the batch
    print("returned", flush=True)


# Four clock calls per issuance (see above), counted from the start of the killed batch: 2 is the
# first credential's index claim, 7 the second's credential row, 12 the third's last write (the
# whole batch written, not committed).
@pytest.mark.parametrize("stop_at", [2, 7, 12])
def test_sigkill_inside_batch_issuance_loses_the_batch_and_nothing_else(target: str, stop_at: int) -> None:
    registry(target)
    _sigkill_inside(
        CRASH_BATCH_CHILD.format(root=str(ROOT), target=target, stop_at=stop_at),
        "issue a batch and block inside the next",
    )
    assert _consistent(target) == 2  # the committed batch; not a trace of the killed one
    reg = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=lambda now: KEY, clock=fixed_clock(NOW))
    assert not isinstance(reg.issue_many([approved(reg, "after-crash")], actor="lee")[0], Exception)
    assert _consistent(target) == 3


def test_batch_issuance_refusals_leave_no_trace_and_the_rest_commits(target: str) -> None:
    reg = registry(target)
    first, second = approved(reg, "E-1"), approved(reg, "E-2")
    draft = complete_application(reg, "E-3")  # never submitted: not approved
    twin = approved(reg, "E-1")  # the same person as ``first``: refused once ``first`` is issued
    results = reg.issue_many([first, draft, "no-such-application", twin, second], actor="ops", batch_size=2)
    codes = [r.code if isinstance(r, Exception) else "issued" for r in results]
    assert codes == ["issued", Code.REGISTRY_TRANSITION_REFUSED, Code.RECORD_NOT_FOUND, Code.ACTIVE_CREDENTIAL_EXISTS,
                     "issued"]  # fmt: skip
    issued = [r for r in results if not isinstance(r, Exception)]
    assert [r.application_id for r in issued] == [first, second]
    assert len({r.status.idx for r in issued}) == 2
    assert all(gate_code(reg, r.qr_text, r.status.uri) == Code.VALID for r in issued)
    assert reg.show(draft)["state"] == "draft" and reg.show(twin)["state"] == "approved"
    assert _consistent(target) == 2
    with pytest.raises(ActorNotAuthorized):
        reg.issue_many([twin], actor="mallory")
    with pytest.raises(UsageError):
        reg.issue_many([twin], actor="ops", batch_size=0)
    assert reg.issue_many([], actor="ops") == []


def test_a_database_error_rolls_back_the_whole_batch(target: str) -> None:
    reg = registry(target)
    apps = [approved(reg, f"E-{i}") for i in range(3)]
    calls = {"n": 0}

    def failing(now: int) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OperationalError("SELECT 1", {}, Exception("connection lost"))
        return KEY

    broken = IssuerRegistry.open(target, issuer_id="KR-MOIS", signer=failing, clock=fixed_clock(NOW))
    with pytest.raises(FileError):
        broken.issue_many(apps, actor="ops")
    assert _consistent(target) == 0  # the two issued before the error went with the batch


def test_claiming_a_taken_index_is_refused(target: str) -> None:
    """Regression: psycopg reported rowcount -1 for ON CONFLICT DO NOTHING, so a taken index
    looked free and issuance failed on the credentials' unique (uri, idx) constraint."""
    reg = registry(target)
    with raw_engine(target).begin() as conn:
        store = SQLStatusStore(conn, CONFIG)
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
