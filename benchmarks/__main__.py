"""``python -m benchmarks``: run the benchmarks, write JSON reports, report.md and chart.png."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
NAMES = (
    "gate", "verify", "status", "qr", "registry", "startup", "degrade", "gate_loop", "presentation",
    "cli_gate", "issue",
)  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run vcsdk's benchmarks (every figure a ratio to a baseline measured in the same run) and write "
        "one JSON report each, report.md (figure / target / measured / met) and chart.png to benchmarks/results/.",
        epilog="example:\n  python -m benchmarks --quick --only gate startup\n  python -m benchmarks --report-only",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (a minute instead of several)")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help=f"run only these: {', '.join(NAMES)}")
    parser.add_argument("--report-only", action="store_true", help="rebuild report.md and chart.png from the JSON")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder (default benchmarks/results)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import importlib

    from benchmarks import report

    if not args.report_only:
        quick = ["--quick"] if args.quick else []
        for name in args.only or NAMES:
            module = importlib.import_module(f"benchmarks.{name}")
            module.main([*quick, "--json", str(args.results / f"{name}.json")])
            print()
    report.main(args.results)
    print(f"report: {args.results / 'report.md'}, chart: {args.results / 'chart.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
