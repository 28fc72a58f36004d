"""QR image benchmark: decode time per camera frame per backend, the share of a full gate scan
(frame -> verified credential) spent in image decoding versus verification, and the decode rate
of each backend on the degraded-image set. Usage::

    .venv/bin/python -m benchmarks.qr [--json PATH] [--quick]
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter

from benchmarks import _cli
from benchmarks.degrade import DISTORTIONS, base_image, samples
from vcsdk import Ed25519PrivateKey, Issuer, StatusPolicy, StatusReference, Verifier, fixed_clock
from vcsdk.errors import QRNotFound
from vcsdk.qr import available_backends, scan

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_780_000_000


def _median_ms(func: Callable[[], object], rounds: int) -> float:
    return _cli.median_seconds(func, rounds) * 1000


def camera_frame(text: str, size: tuple[int, int], module_px: int) -> Image.Image:
    """The QR at ``module_px`` pixels per module in a grey frame, slightly soft like a camera."""
    code = base_image(text, module_px=module_px)
    frame = Image.new("L", size, 200)
    frame.paste(code, ((size[0] - code.width) // 2, (size[1] - code.height) // 2))
    return frame.filter(ImageFilter.GaussianBlur(0.7))


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 5 if quick else 15
    claims = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
    key = Ed25519PrivateKey(bytes(range(32)))
    issuer = Issuer(key, "KR-MOIS", clock=fixed_clock(NOW))
    text = issuer.issue(claims, status=StatusReference(100_000, "https://id.mois.go.kr/sl/7")).qr_text
    verifier = Verifier([key.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    verify_ms = _median_ms(lambda: verifier.verify(text), rounds * 20)
    frames = {"640x480": camera_frame(text, (640, 480), 4), "1280x720": camera_frame(text, (1280, 720), 5)}
    decode: dict[str, dict[str, float]] = {}
    share: dict[str, dict[str, float]] = {}
    for backend in available_backends():
        decode[backend] = {}
        share[backend] = {}
        for name, frame in frames.items():
            assert scan(frame, backend=backend)[0].text == text
            ms = _median_ms(lambda frame=frame, backend=backend: scan(frame, backend=backend), rounds)  # type: ignore[misc]
            decode[backend][name] = round(ms, 2)
            share[backend][name] = round(ms / (ms + verify_ms), 4)
    count = 6 if quick else 20
    texts = [
        issuer.issue(claims, status=StatusReference(i * 7919, "https://id.mois.go.kr/sl/7")).qr_text for i in range(4)
    ]
    rates: dict[str, dict[str, str]] = {backend: {} for backend in available_backends()}
    for backend in available_backends():
        for name in DISTORTIONS:
            for harsh in (False, True):
                ok = 0
                for expected, image in samples(texts, name, harsh=harsh, count=count, seed=7):
                    with contextlib.suppress(QRNotFound):
                        ok += any(c.text == expected for c in scan(image, backend=backend))
                rates[backend][f"{name}/{'harsh' if harsh else 'mild'}"] = f"{ok}/{count}"
    return {
        "benchmark": "qr images",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "qr_chars": len(text),
        "verify_ms": round(verify_ms, 4),
        "decode_ms_per_frame": decode,
        "image_share_of_gate_scan": share,
        "degraded_set_rates": rates,
    }


def main(argv: list[str] | None = None) -> int:
    args = _cli.parse("QR image benchmark", argv)
    report = run(quick=args.quick)
    print(f"QR images ({report['qr_chars']}-character credential; verify {report['verify_ms']} ms)")
    for backend, frames in report["decode_ms_per_frame"].items():
        for frame, ms in frames.items():
            part = report["image_share_of_gate_scan"][backend][frame]
            print(f"  {backend:7} {frame:9} decode {ms:7.2f} ms   image share of a gate scan {part:.1%}")
    for backend, rates in report["degraded_set_rates"].items():
        print(f"  {backend}: " + ", ".join(f"{k} {v}" for k, v in rates.items()))
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
