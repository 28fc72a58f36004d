"""What every benchmark's command line shares: ``--json PATH`` and ``--quick``."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def median_seconds(func: Callable[[], object], rounds: int) -> float:
    """The median wall time of ``rounds`` calls (for work that takes milliseconds or more)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def parse(description: str, argv: list[str] | None) -> argparse.Namespace:
    """Parse ``--json PATH`` (also write the report there) and ``--quick`` (fewer rounds)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    return parser.parse_args(argv)


def save(report: dict[str, Any], path: Path | None) -> None:
    """Write ``report`` as JSON when a path was given."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def parser(description: str) -> argparse.ArgumentParser:
    """The shared parser (``--json PATH``, ``--quick``), for a benchmark that adds options of its own."""
    out = argparse.ArgumentParser(description=description)
    out.add_argument("--json", type=Path, help="also write the report as JSON here")
    out.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    return out


def baseline_main(description: str, run: Callable[..., dict[str, Any]], argv: list[str] | None, unit: str) -> int:
    """The command line of a benchmark that can time an older checkout (``--baseline DIR``) and
    count instructions per ``unit`` (``--instructions``): run, print the figures, save."""
    cli = parser(description)
    cli.add_argument("--baseline", type=Path, help="a checkout of older vcsdk code, timed in the same run")
    cli.add_argument("--instructions", action="store_true", help=f"also count instructions per {unit} (callgrind)")
    args = cli.parse_args(argv)
    report = run(quick=args.quick, baseline=args.baseline, instructions=args.instructions)
    print(json.dumps({k: v for k, v in report.items() if k not in ("when", "benchmark")}, indent=2))
    save(report, args.json)
    return 0
