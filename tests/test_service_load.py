"""The bounded load test runs (short here; ``python -m benchmarks.load`` for the documented run) and
reports rates and p99 for every configuration; numbers are never asserted (not a timed test)."""

from __future__ import annotations

from benchmarks import load


def test_load_test_reports_rates_and_p99_for_each_store_and_worker_count() -> None:
    report = load.run(quick=True)
    assert set(report["results"]) == {"sqlite-1w", "postgresql-2w"}  # the full run adds sqlite-2w, postgresql-1w
    for tag, result in report["results"].items():
        for phase in ("healthz", "status_get", "issuance"):
            measured = result[phase]
            assert measured["failed"] == 0, (tag, phase)
            assert measured["done"] > 0 and measured["per_second"] > 0 and measured["p99_ms"] >= measured["p50_ms"] > 0
        assert report["ratios"][tag]["status_get_vs_healthz"] > 0
    assert report["bounds"]["issuances"] <= 10 and report["bounds"]["seconds_per_phase"] <= 10
