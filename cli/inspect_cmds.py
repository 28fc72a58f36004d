"""``vcsdk inspect``: decode every layer of a QR text (official ID or ``HC1:``), never saying "valid"."""

from __future__ import annotations

import argparse
import json
import sys

from vcsdk.errors import UsageError

from .common import EXIT_INVALID, EXIT_OK, Parser, emit_json


def _text(args: argparse.Namespace) -> str:
    if (args.qr_text is None) == (args.image is None):
        raise UsageError("give either QR_TEXT (or - to read one line from stdin) or --image PATH")
    if args.image is not None:
        from .qr_cmds import image_text

        return image_text(args.image)
    return sys.stdin.readline().rstrip("\r\n") if args.qr_text == "-" else str(args.qr_text)


def cmd_inspect(args: argparse.Namespace) -> int:
    from vcsdk.inspection import inspect_text

    text = _text(args)
    if text.startswith("HC1:"):
        from vcsdk.profiles.hc1 import HC1

        inspection = inspect_text(text, profile=HC1)
    else:
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
                shown = (
                    json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) or value is None else value
                )
                print(f"        {key}: {shown}")
        print(f"note: {inspection.note}")
    return EXIT_OK if inspection.failed_at is None else EXIT_INVALID


def register_inspect(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk inspect``."""
    inspect = commands.add_parser("inspect", help="decode every layer of a QR text (never says valid)")
    inspect.add_argument(
        "qr_text", metavar="QR_TEXT", nargs="?", help="the QR text (GID1: or HC1:), or - to read one line from stdin"
    )
    inspect.add_argument("--image", metavar="PATH", help="read the QR text from an image instead")
    inspect.add_argument("--json", action="store_true", help="print the layers as one JSON object")
    inspect.set_defaults(func=cmd_inspect)
