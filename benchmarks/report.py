"""Turn benchmarks/results/*.json into report.md and chart.png (throughput against raw verify)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict[str, Any]:
    path = RESULTS / f"{name}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return loaded


def chart(gate: dict[str, Any], path: Path) -> None:
    """Horizontal bars: first-scan throughput of each pipeline relative to raw PyNaCl verify."""
    us = gate["us_per_call"]
    raw = us["raw_pynacl_verify"]
    bars = [("raw PyNaCl verify", 1.0), ("vcsdk tuned", raw / us["tuned_full_verify"])]
    bars.append(("vcsdk reference", raw / us["reference_full_verify"]))
    for name in ("python_cwt_us", "pycose_us"):
        if name in gate.get("peers", {}):
            bars.append((name.removesuffix("_us").replace("_", "-"), raw / gate["peers"][name]))
    width, row, left = 760, 44, 190
    image = Image.new("RGB", (width, 70 + row * len(bars)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 12), "verifications per second, relative to one raw Ed25519 verify (same run)", fill="black")
    scale = (width - left - 80) / max(value for _, value in bars)
    for i, (label, value) in enumerate(bars):
        top = 50 + i * row
        draw.text((12, top + 10), label, fill="black")
        draw.rectangle(
            (left, top, left + int(value * scale), top + row - 14),
            fill=(46, 94, 170) if "vcsdk" in label else (150, 150, 150),
        )
        draw.text((left + int(value * scale) + 8, top + 10), f"{value:.2f}x", fill="black")
    image.save(path)


def markdown(reports: dict[str, dict[str, Any]]) -> str:
    lines = ["# vcsdk benchmark report", ""]
    for name, report in reports.items():
        if not report:
            continue
        lines += [f"## {name}", "", "```json", json.dumps(report, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


def main() -> None:
    reports = {name: _load(name) for name in ("gate", "verify", "status", "qr", "registry")}
    (RESULTS / "report.md").write_text(markdown(reports), encoding="utf-8")
    if reports["gate"]:
        chart(reports["gate"], RESULTS / "chart.png")


if __name__ == "__main__":
    main()
