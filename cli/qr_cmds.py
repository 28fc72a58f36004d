"""``vcsdk qr render|scan`` and the image side of ``verify --image`` / ``issue --png``.

The imaging libraries (qrcode, Pillow, the decoders) are imported only by the functions using them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vcsdk.errors import VCError
from vcsdk.keys.files import atomic_write

from .common import EXIT_INVALID, EXIT_OK, Parser, emit_json


def write_image(text: str, path: str, *, ecc: str = "Q", mm: float | None = None, dpi: int = 300) -> None:
    """PNG or SVG by the file's extension."""
    from vcsdk.qr import render_png, render_svg  # imaging libraries only when an image is wanted

    if path.lower().endswith(".svg"):
        data = render_svg(text, ecc=ecc, mm=mm or 40.0)
    else:
        data = render_png(text, ecc=ecc, mm=mm, dpi=dpi)
    atomic_write(path, data)


def cmd_render(args: argparse.Namespace) -> int:
    from vcsdk.qr import plan, render_png, render_svg

    text = sys.stdin.readline().rstrip("\r\n") if args.text == "-" else args.text
    if not args.png and not args.svg:
        args.png = "qr.png"
    if args.png:
        atomic_write(args.png, render_png(text, ecc=args.ecc, mm=args.mm, dpi=args.dpi))
    if args.svg:
        atomic_write(args.svg, render_svg(text, ecc=args.ecc, mm=args.mm or 40.0))
    version = plan(text)[args.ecc]
    if args.json:
        emit_json({"version": version, "ecc": args.ecc, "characters": len(text), "png": args.png, "svg": args.svg})
    else:
        print(f"QR version {version} at ECC {args.ecc} ({len(text)} characters)", file=sys.stderr)
    return EXIT_OK


def _progress(done: int, total: int) -> None:
    if total > 1 and sys.stderr.isatty():
        width = 30
        filled = width * done // total
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
        if done == total:
            print(file=sys.stderr)


def cmd_scan(args: argparse.Namespace) -> int:
    from vcsdk.qr import scan

    all_found = True
    for number, path in enumerate(args.images, start=1):
        try:
            codes = scan(path, backend=args.backend)
            record = {
                "image": path,
                "codes": [{"text": c.text, "polygon": c.polygon, "backend": c.backend} for c in codes],
            }
        except VCError as exc:
            if exc.code not in ("QR_NOT_FOUND", "IMAGE_INVALID"):
                raise
            all_found = False
            record = {"image": path, "codes": [], "code": str(exc.code), "message": exc.message}
        if args.json:
            emit_json(record)
        else:  # --text: bare QR texts, one per line (for `| vcsdk verify -`); failures always on stderr
            for code in record["codes"]:
                print(code["text"] if args.text else f"{path}: {code['text']}")
            if not record["codes"]:
                print(f"vcsdk: {record['code']}: {path}: {record['message']}", file=sys.stderr)
        _progress(number, len(args.images))
    return EXIT_OK if all_found else EXIT_INVALID


def register_qr(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk qr render|scan``."""
    qr = commands.add_parser("qr", help="render QR images, scan them from photos")
    sub = qr.add_subparsers(dest="qr_command", required=True, parser_class=Parser)
    render = sub.add_parser("render", help="a QR text as PNG and/or SVG")
    render.add_argument("text", metavar="TEXT", help="the QR text (- reads it from stdin)")
    render.add_argument("--png", metavar="OUT", help="write a PNG here (default qr.png when neither --png nor --svg)")
    render.add_argument("--svg", metavar="OUT", help="write an SVG here")
    render.add_argument("--ecc", choices=["L", "M", "Q", "H"], default="Q", help="error-correction level")
    render.add_argument("--mm", type=float, help="printed side in millimetres (DCC practice: 35-60)")
    render.add_argument("--dpi", type=int, default=300, help="PNG resolution with --mm")
    render.add_argument("--json", action="store_true", help="print the QR version and files as JSON")
    render.set_defaults(func=cmd_render)
    scan_ = sub.add_parser("scan", help="find and decode QR codes in images")
    scan_.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    scan_.add_argument(
        "--backend", choices=["auto", "zxing", "pyzbar"], default="auto", help="QR decoder (auto: zxing if installed)"
    )
    output = scan_.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON line per image")
    output.add_argument("--text", action="store_true", help="only the QR texts, one per line (pipe into verify -)")
    scan_.set_defaults(func=cmd_scan)


def image_text(path: str) -> str:
    """The first QR text found in an image (raises QR_NOT_FOUND / IMAGE_INVALID)."""
    from vcsdk.qr import scan

    return scan(Path(path))[0].text
