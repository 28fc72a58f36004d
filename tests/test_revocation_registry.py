"""Issuer-side status allocation (vcsdk.registry.status): random non-repeating allocation,
transitions, durability of the SQL store, concurrent allocators, the refusal of a registry
database, and the issue -> revoke -> publish -> verify loop."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest

from tests.conftest import NOW, SEED, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.errors import StatusEntryNotFound, StatusTransitionRefused, UsageError
from vcsdk.registry.status import MIN_LIST_SIZE, StatusAllocator, StatusConfig
from vcsdk.registry.stores import MemoryStatusStore, SQLStatusStore, open_status_database
from vcsdk.revocation import Status, StatusListChecker

RegistryConfig = StatusConfig
StatusAllocator = StatusAllocator


def sql_store(path: str | Path) -> SQLStatusStore:
    return open_status_database(str(path), create=True)


TEMPLATE = "https://id.mois.go.kr/sl/{n}"
CONFIG = StatusConfig(TEMPLATE, first=7)
KEY = Ed25519PrivateKey(SEED)


def memory_registry() -> StatusAllocator:
    return StatusAllocator.create(MemoryStatusStore(), CONFIG, clock=fixed_clock(NOW))


def test_config_rules() -> None:
    with pytest.raises(UsageError):
        StatusConfig("https://x/sl/1")  # no {n}
    with pytest.raises(UsageError):
        StatusConfig(TEMPLATE, size=MIN_LIST_SIZE - 8)  # herd privacy
    with pytest.raises(UsageError):
        StatusConfig(TEMPLATE, bits=1)  # cannot say SUSPENDED
    assert CONFIG.uri(7) == "https://id.mois.go.kr/sl/7"


def test_100000_allocations_unique_and_uniform() -> None:
    registry = StatusAllocator.create(MemoryStatusStore(), CONFIG, clock=fixed_clock(NOW), rng=random.Random(20261201))
    indices = [registry.allocate().idx for _ in range(100_000)]
    assert len(set(indices)) == 100_000
    buckets = 64
    width = MIN_LIST_SIZE // buckets
    counts = [0] * buckets
    for idx in indices:
        counts[idx // width] += 1
    expected = 100_000 / buckets
    chi_square = sum((c - expected) ** 2 / expected for c in counts)
    # Sampling without replacement makes buckets *more* even than uniform; 63 degrees of
    # freedom: the 99.9 % quantile is 103.4, so a uniform allocator passes, a skewed one fails.
    assert chi_square < 103.4, chi_square
    assert max(counts) - min(counts) < 250
    print(f"chi-square over {buckets} buckets: {chi_square:.1f} (df 63)")


def test_a_full_list_opens_the_next_one() -> None:
    registry = memory_registry()
    first = {registry.allocate() for _ in range(MIN_LIST_SIZE)}
    assert {r.uri for r in first} == {"https://id.mois.go.kr/sl/7"}
    assert sorted(r.idx for r in first) == list(range(MIN_LIST_SIZE))  # every slot, no repeat
    nxt = registry.allocate()
    assert nxt.uri == "https://id.mois.go.kr/sl/8"
    assert [i.allocated for i in registry.lists()] == [MIN_LIST_SIZE, 1]


def test_transitions_revoked_is_final() -> None:
    registry = memory_registry()
    ref = registry.allocate()
    assert registry.status(ref) is Status.VALID
    assert registry.suspend(ref) is Status.VALID
    assert registry.reinstate(ref) is Status.SUSPENDED
    assert registry.require_renewal(ref) is Status.VALID
    assert registry.revoke(ref) is Status.NEEDS_RENEWAL
    assert registry.revoke(ref) is Status.REVOKED  # idempotent
    for change in (registry.reinstate, registry.suspend, registry.require_renewal):
        with pytest.raises(StatusTransitionRefused):
            change(ref)
    assert registry.status(ref) is Status.REVOKED
    with pytest.raises(StatusEntryNotFound):
        registry.suspend(StatusReference((ref.idx + 1) % MIN_LIST_SIZE, ref.uri))
    with pytest.raises(StatusEntryNotFound):
        registry.snapshot("https://id.mois.go.kr/sl/99")


def test_uninitialised_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        StatusAllocator(sql_store(tmp_path / "s.sqlite"))


def test_the_compatibility_names_still_import() -> None:
    import vcsdk.revocation as revocation

    assert revocation.StatusRegistry is StatusAllocator
    assert revocation.RegistryConfig is StatusConfig
    assert revocation.MemoryStatusStore is MemoryStatusStore
    with pytest.raises(AttributeError):
        _ = revocation.SQLiteStatusStore  # the raw-DDL store is gone: one SQL store


def test_sqlite_store_is_durable(tmp_path: Path) -> None:
    path = tmp_path / "status.sqlite"
    registry = StatusAllocator.create(sql_store(path), CONFIG, clock=fixed_clock(NOW))
    refs = [registry.allocate() for _ in range(500)]
    assert len(set(refs)) == 500
    registry.suspend(refs[0])
    registry.revoke(refs[1])
    reopened = StatusAllocator(sql_store(path), clock=fixed_clock(NOW))
    assert reopened.config == CONFIG
    assert reopened.status(refs[0]) is Status.SUSPENDED
    assert reopened.status(refs[1]) is Status.REVOKED
    assert reopened.lists()[0].allocated == 500
    assert reopened.snapshot(refs[0].uri).counts() == {1: 1, 2: 1}
    with pytest.raises(UsageError):
        StatusAllocator.create(sql_store(path), StatusConfig(TEMPLATE, bits=4))


def _allocate_in_process(path: str, count: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    registry = StatusAllocator(sql_store(path))
    queue.put([(r.uri, r.idx) for r in (registry.allocate() for _ in range(count))])


def test_concurrent_processes_never_share_an_index(tmp_path: Path) -> None:
    path = str(tmp_path / "status.sqlite")
    StatusAllocator.create(sql_store(path), CONFIG)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_allocate_in_process, args=(path, 300, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    allocated = [item for result in results for item in result]
    assert len(allocated) == 900
    assert len(set(allocated)) == 900
    assert StatusAllocator(sql_store(path)).lists()[0].allocated == 900


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_issue_revoke_publish_verify(store: str, tmp_path: Path) -> None:
    backing = MemoryStatusStore() if store == "memory" else sql_store(tmp_path / "s.sqlite")
    clock = fixed_clock(NOW)
    registry = StatusAllocator.create(backing, CONFIG, clock=clock)
    issuer = Issuer(KEY, "KR-MOIS", clock=clock)
    ref = registry.allocate()
    text = issuer.issue(reference_claims(), status=ref).qr_text

    def verdict() -> Code:
        checker = StatusListChecker(TrustStore([KEY.public_key]))
        checker.load(registry.publish(ref.uri, KEY), now=NOW)
        return Verifier([KEY.public_key], clock=fixed_clock(NOW + 5), status=checker).check(text).code

    assert verdict() == Code.VALID
    registry.suspend(ref)  # phone lost
    assert verdict() == Code.STATUS_SUSPENDED
    registry.reinstate(ref)  # phone found
    assert verdict() == Code.VALID
    registry.require_renewal(ref)  # promotion
    assert verdict() == Code.STATUS_NEEDS_RENEWAL
    registry.revoke(ref)
    assert verdict() == Code.STATUS_REVOKED
    with pytest.raises(StatusTransitionRefused):
        registry.reinstate(ref)
    assert verdict() == Code.STATUS_REVOKED
