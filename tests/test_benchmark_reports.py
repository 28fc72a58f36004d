"""The benchmark shell: help, the report's target table and chart, the RSS probe, start-up report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from benchmarks import report
from tests.conftest import ROOT


def test_benchmarks_help_prints_help_and_runs_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help", "--results", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0 and "usage: python -m benchmarks" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_report_has_a_target_table_with_date_machine_and_versions(tmp_path: Path) -> None:
    gate = {
        "when": "2026-12-01T10:00:00Z",
        "us_per_call": {"raw_pynacl_verify": 60.0, "tuned_full_verify": 80.0, "reference_full_verify": 140.0,
                        "status_check": 0.4},
        "ratios": {"tuned_throughput_vs_raw": 0.75, "tuned_vs_python_cwt": 2.0},
        "scaling": {"ratio": 1.95},
        "peak_rss_mb": {"imports_only": 30.0, "loaded": 70.0},
        "peers": {"python_cwt_us": 160.0},
        "targets": {"tuned_throughput_vs_raw": ">= 0.85", "scaling.ratio": ">= 1.9", "status_check": "<= 1 us",
                    "peak_rss_mb": "<= 60", "tuned vs python-cwt": ">= 2.5", "invented": ">= 1"},
    }  # fmt: skip
    (tmp_path / "gate.json").write_text(json.dumps(gate))
    report.main(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "- date: 2026-12-01T10:00:00Z" in text and "- machine: " in text and "pynacl " in text
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| gate |")}
    assert rows["tuned_throughput_vs_raw"].endswith("| 0.75 | **no** |")
    assert rows["scaling.ratio"].endswith("| 1.95 | yes |")
    assert rows["status_check"].endswith("| 0.4 | yes |")
    assert rows["peak_rss_mb"].endswith("| 70.0 | **no** |")  # the worst probe decides
    assert rows["tuned vs python-cwt"].endswith("| 2.0 | **no** |")
    assert rows["invented"].endswith("| not measured | n/a |")
    chart = Image.open(tmp_path / "chart.png").convert("RGB")
    colours = {colour: count for count, colour in chart.getcolors(1 << 20) or []}
    reds = colours.get((200, 30, 30), 0)
    assert reds > 50  # the target line is drawn


def test_rss_probe_reports_its_own_peak_not_the_parents() -> None:
    from benchmarks.gate import peak_rss_mb

    ballast = bytearray(300 * 1024 * 1024)  # the parent's peak is now above 300 MB
    ballast[::4096] = b"x" * len(ballast[::4096])
    assert peak_rss_mb(False) < 200
    del ballast


def test_startup_benchmark_reports_ratios_and_imports() -> None:
    from benchmarks import startup

    result = startup.run(quick=True)
    assert set(result["ratios"]) == {"help_vs_bare_python", "verify_vs_bare_python"}
    assert result["heavy_imports"]["help"] == []
    assert not {"jsonschema", "sqlalchemy", "PIL", "qrcode"} & set(result["heavy_imports"]["verify"])
