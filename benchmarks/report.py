"""Turn benchmarks/results/*.json into report.md (a figure / target / measured / met table, the date,
the machine and versions, then every report in full) and chart.png (throughput against raw verify)."""

from __future__ import annotations

import json
import os
import platform
import re
import time
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
NAMES = ("gate", "verify", "status", "qr", "registry", "startup", "cli_gate", "issue")
ALIASES = {"tuned vs python-cwt": "ratios.tuned_vs_python_cwt"}
VERSIONS = ("vcsdk", "pynacl", "cryptography", "cbor2", "zlib-ng", "pillow", "sqlalchemy")


def _load(folder: Path, name: str) -> dict[str, Any]:
    path = folder / f"{name}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return loaded


def _lookup(report: dict[str, Any], figure: str) -> Any:
    """The measured value of a target's figure: a dotted path, or a key of a top-level section."""
    path = ALIASES.get(figure, figure)
    for candidate in (path, *(f"{section}.{path}" for section in ("ratios", "us_per_call", "seconds"))):
        value: Any = report
        for part in candidate.split("."):
            if not isinstance(value, dict) or part not in value:
                value = None
                break
            value = value[part]
        if value is not None:
            return (
                max(value.values())
                if isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values())
                else value
            )
    return None


def _met(measured: Any, target: str) -> str:
    match = re.match(r"\s*(>=|<=)\s*([0-9.]+)", target)
    if not isinstance(measured, (int, float)) or isinstance(measured, bool) or match is None:
        return "n/a"
    bound = float(match.group(2))
    ok = measured >= bound if match.group(1) == ">=" else measured <= bound
    return "yes" if ok else "**no**"


def table(reports: dict[str, dict[str, Any]]) -> list[str]:
    """One row per declared target of every report."""
    rows = ["| benchmark | figure | target | measured | met |", "|---|---|---|---:|---|"]
    for name, report in reports.items():
        for figure, target in report.get("targets", {}).items():
            measured = _lookup(report, figure)
            shown = "not measured" if measured is None else measured
            rows.append(f"| {name} | {figure} | {target} | {shown} | {_met(measured, str(target))} |")
    return rows


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def markdown(reports: dict[str, dict[str, Any]]) -> str:
    dates = sorted(report["when"] for report in reports.values() if report.get("when"))
    lines = [
        "# vcsdk benchmark report",
        "",
        f"- date: {dates[-1] if dates else time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- python {platform.python_version()}; " + ", ".join(f"{name} {_version(name)}" for name in VERSIONS),
        "- every figure is a ratio to a baseline measured in the same run, or a bound (size, memory, time)",
        "",
        "## Targets",
        "",
        *table(reports),
        "",
    ]
    for name, report in reports.items():
        if report:
            lines += [f"## {name}", "", "```json", json.dumps(report, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


def chart(gate: dict[str, Any], path: Path) -> None:
    """Horizontal bars: first-scan throughput of each pipeline relative to raw PyNaCl verify."""
    from PIL import Image, ImageDraw, ImageFont

    us = gate["us_per_call"]
    raw = us["raw_pynacl_verify"]
    bars = [("raw PyNaCl verify", 1.0), ("vcsdk tuned", raw / us["tuned_full_verify"])]
    bars.append(("vcsdk reference", raw / us["reference_full_verify"]))
    for name in ("python_cwt_us", "pycose_us"):
        if name in gate.get("peers", {}):
            bars.append((name.removesuffix("_us").replace("_", "-"), raw / gate["peers"][name]))
    target_text = str(gate.get("targets", {}).get("tuned_throughput_vs_raw", ""))
    match = re.search(r"[0-9.]+", target_text)
    target = float(match.group()) if match else None
    font, small = ImageFont.load_default(size=18), ImageFont.load_default(size=14)
    width, row, left, top0 = 760, 46, 200, 78
    image = Image.new("RGB", (width, top0 + 40 + row * len(bars)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 10), "Gate verification throughput vs one raw Ed25519 verify", fill="black", font=font)
    draw.text((12, 36), f"same run, {gate.get('when', '')}; higher is better", fill=(90, 90, 90), font=small)
    top_value = max([value for _, value in bars] + ([target] if target else []))
    scale = (width - left - 90) / top_value
    for i, (label, value) in enumerate(bars):
        top = top0 + i * row
        draw.text((12, top + 8), label, fill="black", font=small)
        draw.rectangle(
            (left, top, left + int(value * scale), top + row - 12),
            fill=(46, 94, 170) if "vcsdk" in label else (150, 150, 150),
        )
        draw.text((left + int(value * scale) + 8, top + 8), f"{value:.2f}x", fill="black", font=small)
    if target is not None:
        x = left + int(target * scale)
        bottom = top0 + row * len(bars)
        draw.line((x, top0 - 6, x, bottom), fill=(200, 30, 30), width=2)
        draw.text((x + 4, bottom + 6), f"target {target_text} (tuned)", fill=(200, 30, 30), font=small)
    image.save(path)


def main(folder: Path | None = None) -> None:
    where = RESULTS if folder is None else folder
    where.mkdir(parents=True, exist_ok=True)
    reports = {name: _load(where, name) for name in NAMES}
    reports = {name: report for name, report in reports.items() if report}
    (where / "report.md").write_text(markdown(reports), encoding="utf-8")
    if "gate" in reports:
        chart(reports["gate"], where / "chart.png")


if __name__ == "__main__":
    main()
