"""``vcsdk conformance [--vectors DIR] [--suite NAME]... [--json]``: the public suites, checked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vcsdk.conformance import SUITES, default_vectors_dir, render_table, run_suites

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, Parser, emit_json


def cmd_conformance(args: argparse.Namespace) -> int:
    vectors = Path(args.vectors) if args.vectors else default_vectors_dir()
    report = run_suites(vectors, args.suite or None)
    if args.json:
        emit_json(report.to_json())
    if not report.found:
        print(render_table(report), file=sys.stderr)  # the banner, even with --json
        return EXIT_USAGE
    if not args.json:
        print(render_table(report))
    return EXIT_OK if report.ok else EXIT_INVALID


def register_conformance(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk conformance``."""
    parser = commands.add_parser(
        "conformance",
        help="run the public test suites (RFC 9285, RFC 8032, COSE WG, IETF status list, Wycheproof)",
        description="Exit 0 when every suite passes, 1 on any failure, 2 when the vectors folder is absent.",
    )
    parser.add_argument(
        "--vectors",
        metavar="DIR",
        help="the conformance folder (default: $VCSDK_CONFORMANCE, else ../shared/conformance)",
    )
    parser.add_argument("--suite", action="append", choices=[s.name for s in SUITES], help="run only this suite")
    parser.add_argument("--json", action="store_true", help="one JSON document with every case")
    parser.set_defaults(func=cmd_conformance)
