"""``vcsdk inspect``: decode every layer of a QR text, without ever saying "valid"."""

from __future__ import annotations

import argparse
import json
import sys

from vcsdk.inspection import inspect_text

from .common import EXIT_INVALID, EXIT_OK, Parser, emit_json


def cmd_inspect(args: argparse.Namespace) -> int:
    text = sys.stdin.readline().rstrip("\r\n") if args.qr_text == "-" else args.qr_text
    inspection = inspect_text(text)
    if args.json:
        emit_json(inspection.to_json())
    else:
        for layer in inspection.to_json()["layers"]:
            name = layer.pop("layer")
            if "error" in layer:
                print(f"{name:7} FAILED {layer['error']}: {layer['message']}")
                continue
            print(f"{name:7} ok")
            for key, value in layer.items():
                shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
                print(f"        {key}: {shown}")
        print(f"note: {inspection.note}")
    return EXIT_OK if inspection.failed_at is None else EXIT_INVALID


def register_inspect(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk inspect``."""
    inspect = commands.add_parser("inspect", help="decode every layer of a QR text (never says valid)")
    inspect.add_argument("qr_text", metavar="QR_TEXT", help="the QR text, or - to read one line from stdin")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(func=cmd_inspect)
