"""The presentation benchmark runs and reports sizes and ratios (numbers never asserted as times)."""

from __future__ import annotations

from benchmarks import presentation


def test_presentation_benchmark_reports_sizes_and_ratios() -> None:
    report = presentation.run(quick=True)
    sizes = report["sizes"]
    assert sizes["credential_unbound"]["chars"] <= 574 and sizes["credential_unbound"]["qr_version_ecc_q"] <= 18
    assert sizes["credential_bound"]["chars"] <= 702 and sizes["credential_bound"]["qr_version_ecc_q"] <= 20
    challenged = sizes["presentation_with_challenge_64_char_gate_id"]
    assert sizes["presentation"]["chars"] < challenged["chars"] <= 823 and challenged["qr_version_ecc_q"] <= 22
    assert set(report["ratios"]) >= {
        "fast_presentation_vs_two_raw_verifies",
        "reference_presentation_vs_two_raw_verifies",
    }
    assert all(value > 0 for value in report["us_per_call"].values())
