"""The benchmarks run and report ratios (their numbers are never asserted: not timed tests)."""

from __future__ import annotations

from benchmarks import status, verify
from tests.conftest import ROOT


def test_verify_benchmark_reports_ratios() -> None:
    report = verify.run(quick=True)
    assert report["credential"]["status_checked"] is True
    assert set(report["ratios"]) >= {"full_verify_throughput_vs_raw_verify", "base45_vs_raw_verify"}
    assert all(value > 0 for value in report["us_per_call"].values())


def test_status_benchmark_reports_ratios_and_sizes() -> None:
    report = status.run(quick=True)
    assert report["list"]["entries"] == 1_200_000
    assert report["sizes"]["lst_bytes"] > report["sizes"]["entropy_bound_bytes"]  # nothing beats entropy
    assert report["ratios"]["publish_vs_stdlib_zlib"] > 0


def test_qr_benchmark_reports_per_backend() -> None:
    from benchmarks import qr

    report = qr.run(quick=True)
    assert set(report["decode_ms_per_frame"]) == {"zxing", "pyzbar"}
    for shares in report["image_share_of_gate_scan"].values():
        assert all(0 < share < 1 for share in shares.values())
    assert len(report["degraded_set_rates"]["zxing"]) == 20


def test_registry_benchmark_reports_both_stores() -> None:
    from benchmarks import registry

    report = registry.run(quick=True)
    stores = {f"{db}_{way}" for db in ("sqlite", "postgresql") for way in ("one_transaction_each", "batches_of_100")}
    assert set(report["ratio_to_bare_signing"]) == stores
    assert all(rate > 0 for rate in report["per_second"].values())


def test_issue_benchmark_times_the_baseline_code_in_the_same_run() -> None:
    from benchmarks import issue

    report = issue.run(quick=True, baseline=ROOT)  # this tree as its own baseline: the probe runs twice
    assert set(report["code"]) == {"current", "baseline"}
    assert all(
        report["code"][name]["issue_us"]["cpu"] > report["code"][name]["sign_us"]["cpu"] > 0 for name in report["code"]
    )
    assert set(report["speedup"]) == {"cpu", "wall", "normalised_by_signing"}


def test_cli_gate_benchmark_reports_end_to_end_and_in_process_ratios() -> None:
    from benchmarks import cli_gate

    report = cli_gate.run(quick=True, lines=150)  # each run checks its output: one verdict line per input line
    assert report["lines"] == 150
    ends = {"cli_gate_mode", "cli_gate_mode_line_buffered", "gate_run_stdin"}
    assert set(report["wall_us_per_line"]) == {"raw_pynacl_verify", *ends}
    assert {f"{name}_vs_raw" for name in ends} <= set(report["ratios_cpu"])
    in_process = ("raw_pynacl_verify", "verifier_check", "former_loop", "gate_mode_loop")
    assert all(report["cpu_us_per_line"][name] > 0 for name in in_process)  # end to end: a difference, may be noise


def test_report_writes_markdown_and_chart(tmp_path: object, monkeypatch: object) -> None:
    import json
    from pathlib import Path

    import pytest
    from PIL import Image

    from benchmarks import report

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    folder = Path(str(tmp_path))
    gate = {
        "us_per_call": {"raw_pynacl_verify": 60.0, "tuned_full_verify": 80.0, "reference_full_verify": 140.0},
        "peers": {"python_cwt_us": 200.0, "pycose_us": 250.0},
    }
    (folder / "gate.json").write_text(json.dumps(gate))
    monkeypatch.setattr(report, "RESULTS", folder)
    report.main()
    assert "## gate" in (folder / "report.md").read_text()
    assert Image.open(folder / "chart.png").size[0] == 760


def test_batch_benchmark_reports_paired_ratios() -> None:
    from benchmarks import batch as batch_benchmark
    from vcsdk.verify import batch

    report = batch_benchmark.run(quick=True)
    assert report["compiled_batch_verifier"] is batch.native_enabled()
    assert set(report["ratios"]) == {
        "credentials_check_many_vs_raw_single",
        "credentials_check_one_by_one_vs_raw_single",
        "presentations_check_many_vs_two_raw",
        "signature_layer_batch_vs_single",
    }
    assert all(value["ratio_median"] > 0 for value in report["paired"].values())
