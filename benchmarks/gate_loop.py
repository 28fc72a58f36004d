"""Gate loop benchmark: frames per second and verdict latency (frame in -> JSON line out) of
``GateLoop`` at 640x480 and 1280x720, as ratios to the bare decoder's time on the same frames
(zxing-cpp on the frame, nothing else). Usage::

    .venv/bin/python -m benchmarks.gate_loop [--json PATH] [--quick]

The loop runs what ``vcsdk gate run`` runs per frame: the scan ladder, the debounce, a
verification through a bundle-fed gate (status list checked), the JSON line. Debounce is 0 so
that every frame is verified and emitted (after the first, the gate's repeat-scan cache answers, as
for a phone held in front of the camera); ``empty`` frames
(no QR) show the cost of climbing the whole ladder budget.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import _cli
from benchmarks.degrade import _camera, base_image
from vcsdk import Ed25519PrivateKey, Issuer, TrustedKey, fixed_clock
from vcsdk.gate.fetch import BundleKeeper, FileSource, max_bundle_bytes
from vcsdk.gate.loop import GateLoop
from vcsdk.gate.sources import Frame
from vcsdk.qr.ladder import ScanLadder
from vcsdk.qr.scan import available_backends, decode, load_image
from vcsdk.revocation import MemoryStatusStore, RegistryConfig, StatusRegistry
from vcsdk.trust.bundle import build_bundle
from vcsdk.trust.trustlist import TrustList, sign_trust_list

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_780_000_000


def _keeper(folder: Path) -> tuple[BundleKeeper, str]:
    anchor, issuing = Ed25519PrivateKey(bytes(range(100, 132))), Ed25519PrivateKey(bytes(range(200, 232)))
    registry = StatusRegistry.create(
        MemoryStatusStore(), RegistryConfig("https://id.mois.go.kr/sl/{n}", first=7), clock=fixed_clock(NOW - 120)
    )
    reference = registry.allocate()
    claims = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
    text = Issuer(issuing, "KR-MOIS", clock=fixed_clock(NOW - 60)).issue(claims, status=reference).qr_text
    listed = TrustList(1, NOW - 86400, NOW + 30 * 86400, (TrustedKey(issuing.public_key, issuer="KR-MOIS"),))
    bundle = build_bundle(
        sign_trust_list(listed, anchor),
        [registry.publish(reference.uri, issuing)],
        anchor,
        version=1,
        issued_at=NOW - 60,
        expires_at=NOW + 86400,
    )
    (folder / "gate.bundle").write_bytes(bundle)
    source = FileSource(folder / "gate.bundle", max_bytes=max_bundle_bytes())
    keeper = BundleKeeper([anchor.public_key], source, clock=fixed_clock(NOW))
    keeper.start()
    return keeper, text


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 30 if quick else 200
    backend = available_backends()[0]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        keeper, text = _keeper(Path(folder))
        out = io.StringIO()
        lines: list[dict[str, Any]] = []

        def emit(line: dict[str, Any]) -> None:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            lines.append(line)

        loop = GateLoop(keeper.check, emit, ladder=ScanLadder(backend=backend), debounce=0.0)
        for size in ((640, 480), (1280, 720)):
            label = f"{size[0]}x{size[1]}"
            frame = _camera(base_image(text), random.Random(5), size=size, px=3.0)
            gray = load_image(frame)
            assert [c.text for c in decode(gray, backend)] == [text]
            decoder, loop_times, latencies = [], [], []
            for index in range(rounds):  # interleaved, so that the machine's load hits both alike
                start = time.perf_counter()
                decode(load_image(frame), backend)
                decoder.append(time.perf_counter() - start)
                lines.clear()
                start = time.perf_counter()
                loop.scan_frame(Frame(frame, float(index), f"bench#{index}", received=start))
                loop_times.append(time.perf_counter() - start)
                assert lines and lines[0]["code"] == "VALID", lines
                latencies.append(lines[0]["latency_ms"] / 1000)
            empty = load_image(_camera(base_image(text), random.Random(5), size=size, px=3.0).crop((0, 0, 40, 40)))
            empty = empty.resize(size)
            empty_times = []
            for index in range(max(5, rounds // 10)):
                start = time.perf_counter()
                loop.scan_frame(Frame(empty, float(index), "empty"))
                empty_times.append(time.perf_counter() - start)
            bare = statistics.median(decoder)
            per_frame = statistics.median(loop_times)
            latency = statistics.median(latencies)
            results[label] = {
                "bare_decoder_ms": round(bare * 1000, 3),
                "loop_ms_per_frame": round(per_frame * 1000, 3),
                "loop_frames_per_second": round(1 / per_frame, 1),
                "latency_ms_median": round(latency * 1000, 3),
                "latency_ms_p95": round(sorted(latencies)[int(0.95 * len(latencies))] * 1000, 3),
                "loop_time_vs_bare_decoder": round(per_frame / bare, 3),
                "latency_vs_bare_decoder": round(latency / bare, 3),
                "empty_frame_frames_per_second": round(1 / statistics.median(empty_times), 1),
            }
    return {
        "benchmark": "gate loop",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "backend": backend,
        "qr_chars": len(text),
        "rounds": rounds,
        "resolutions": results,
    }


def main(argv: list[str] | None = None) -> int:
    args = _cli.parse("gate loop benchmark", argv)
    report = run(quick=args.quick)
    print(f"gate loop ({report['backend']}, {report['qr_chars']}-character credential, {report['rounds']} frames)")
    for label, row in report["resolutions"].items():
        print(
            f"  {label:9} bare decoder {row['bare_decoder_ms']:6.2f} ms | "
            f"loop {row['loop_ms_per_frame']:6.2f} ms/frame "
            f"({row['loop_frames_per_second']} fps, {row['loop_time_vs_bare_decoder']}x the decoder) | latency "
            f"{row['latency_ms_median']:.2f} ms median, {row['latency_ms_p95']:.2f} p95 "
            f"({row['latency_vs_bare_decoder']}x) | empty frames {row['empty_frame_frames_per_second']} fps"
        )
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
