"""``vcsdk gate run``: the long-running gate scanner (camera, video, images folder or stdin)."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from vcsdk.errors import UsageError

from .common import EXIT_INVALID, EXIT_OK, Parser, clock_of

CLAIMS_CHOICES = ("none", "minimal", "all")  # vcsdk.gate.loop.CLAIMS_MODES (not imported: start-up time)
DEFAULT_SCAN_BUDGET_MS = 50.0  # vcsdk.qr.ladder.DEFAULT_BUDGET_SECONDS


def cmd_gate_run(args: argparse.Namespace) -> int:
    # imported here, not at module level: `vcsdk --help` and `vcsdk verify` must not pay for
    # Pillow, the scan ladder or OpenCV
    from vcsdk.clock import parse_time
    from vcsdk.gate.challenge import ChallengeBoard, ChallengeRotator
    from vcsdk.gate.fetch import BundleKeeper, FileSource, HttpSource, max_bundle_bytes
    from vcsdk.gate.loop import GateLoop, Hooks, WorkerPool, run, verdict_text
    from vcsdk.gate.sources import camera_frames, folder_images, text_batches, video_frames
    from vcsdk.keys.files import load_public_key
    from vcsdk.qr.ladder import ScanLadder
    from vcsdk.trust.floors import default_state_dir

    sources = [args.camera is not None, args.video is not None, args.images is not None, args.stdin]
    if sum(sources) != 1:
        raise UsageError("give exactly one source: --camera N, --video FILE, --images DIR or --stdin")
    if (args.bundle is None) == (args.bundle_url is None):
        raise UsageError("give exactly one of --bundle PATH or --bundle-url URL")
    if not args.trust_anchor:
        raise UsageError("give the pinned --trust-anchor public key (PEM) that signs the bundles")
    if args.workers > 1 and not args.stdin:
        raise UsageError("--workers applies to --stdin (frames are scanned in order)")
    challenge_mode = args.challenge_png is not None or args.challenge_text is not None
    if challenge_mode and args.gate_id is None:
        raise UsageError("challenge mode (--challenge-png / --challenge-text) needs --gate-id ID")
    if challenge_mode and args.workers > 1:
        raise UsageError("challenge mode verifies on one process (the one that made the challenge): drop --workers")
    if not args.challenge_every > 0:
        raise UsageError("--challenge-every must be a positive number of seconds")
    anchors = [load_public_key(path) for path in args.trust_anchor]
    guard = None
    if args.gate_id is not None:
        from vcsdk.verify.presentation import PresentationGuard

        guard = PresentationGuard(args.gate_id)
    clock = clock_of(args)
    cap = max_bundle_bytes()
    source = (
        FileSource(args.bundle, max_bytes=cap)
        if args.bundle is not None
        else HttpSource(args.bundle_url, max_bytes=cap, timeout=args.timeout)
    )
    state_dir = Path(args.state) if args.state else default_state_dir()
    keeper = BundleKeeper(
        anchors,
        source,
        state_dir=state_dir,
        clock=clock,
        presentations=guard,  # one guard: the nonces and replay cache outlive bundle swaps
        poll_interval=args.poll,
        max_backoff=max(args.poll, args.max_backoff),
    )
    keeper.start()
    hooks = Hooks(args.on_valid, args.on_invalid) if (args.on_valid or args.on_invalid) else None

    written: list[str] = []

    def write_line(line: dict[str, Any]) -> None:
        """One verdict as one JSON line (Hangul kept readable), held until the loop flushes."""
        written.append(verdict_text(line))

    def flush_lines() -> None:
        """The lines of a frame, text or batch in one write (one system call even when standard
        output is unbuffered, as with PYTHONUNBUFFERED), then a flush."""
        if written:
            text = "".join(written)
            written.clear()
            sys.stdout.write(text)
        sys.stdout.flush()

    ladder = None if args.stdin else ScanLadder(backend=args.backend, budget=args.scan_budget / 1000)
    loop = GateLoop(
        keeper.check,
        write_line,
        ladder=ladder,
        debounce=args.debounce,
        claims=args.claims,
        hooks=hooks,
        flush=flush_lines,  # once per frame, text or batch of texts read together
        check_many=keeper.check_many,  # texts read together: one batch of signatures
    )
    stop = threading.Event()
    at = parse_time(args.at) if args.at else None
    pool = WorkerPool(keeper, anchors, str(state_dir), args.workers, at) if args.workers > 1 else None
    rotator = None
    if challenge_mode:
        board = ChallengeBoard(keeper.gate.challenge, png=args.challenge_png, text=args.challenge_text)
        rotator = ChallengeRotator(board, args.challenge_every)
        rotator.start()  # the first challenge is on disk before the first scan
    try:
        if args.stdin and pool is not None:
            texts = (text for batch in text_batches(sys.stdin) for text in batch)  # lines as without workers
            summary = run(keeper, loop, texts=texts, pool=pool)  # line by line, in order
        elif args.stdin:
            summary = run(keeper, loop, batches=text_batches(sys.stdin))
        elif args.images is not None:
            frames = folder_images(args.images, stop=stop, existing=not args.new_only, once=args.once)
            summary = run(keeper, loop, frames=frames, report_misses=True, debounce=False, stop=stop)
        elif args.video is not None:
            summary = run(keeper, loop, frames=video_frames(args.video, stop=stop), stop=stop)
        else:
            frames = camera_frames(args.camera, stop=stop, width=args.width, height=args.height)
            summary = run(keeper, loop, frames=frames, stop=stop)
    finally:
        if written:  # a stop between a verdict and its flush: the verdict still goes out
            flush_lines()
        if rotator is not None:
            rotator.close()
        if hooks is not None:
            hooks.close()
    invalid = sum(count for code, count in summary["verdicts"].items() if code != "VALID")
    return EXIT_OK if invalid == 0 else EXIT_INVALID


def register_gate(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk gate run``."""
    gate = commands.add_parser("gate", help="the long-running gate scanner")
    gate_commands = gate.add_subparsers(dest="gate_command", required=True, parser_class=Parser)
    runner = gate_commands.add_parser(
        "run",
        help="scan a camera, video, images folder or stdin; one JSON line per verdict (SIGHUP reloads, SIGTERM stops)",
    )
    where = runner.add_argument_group("source (exactly one)")
    where.add_argument("--camera", type=int, metavar="N", help="OpenCV camera index (needs vcsdk[gate])")
    where.add_argument("--video", metavar="FILE", help="a video file, frame by frame (needs vcsdk[gate])")
    where.add_argument("--images", metavar="DIR", help="a folder watched for new image files")
    where.add_argument("--stdin", action="store_true", help="QR texts, one per line, each answered at once")
    trust = runner.add_argument_group("trust")
    trust.add_argument("--trust-anchor", action="append", default=[], metavar="PEM", help="pinned anchor public key")
    trust.add_argument("--bundle", metavar="PATH", help="gate bundle file, reloaded when it changes")
    trust.add_argument("--bundle-url", metavar="URL", help="gate bundle URL, polled with ETag / If-None-Match")
    trust.add_argument(
        "--state",
        metavar="DIR",
        help="folder for the version floor and last good bundle (default: as vcsdk verify)",
    )
    trust.add_argument("--poll", type=float, default=30.0, metavar="S", help="bundle poll interval (default: 30 s)")
    trust.add_argument("--max-backoff", type=float, default=600.0, metavar="S", help="back-off cap after failures")
    trust.add_argument("--timeout", type=float, default=10.0, metavar="S", help="HTTP timeout for --bundle-url")
    trust.add_argument("--at", metavar="TIME", help="verify as if at TIME (tests and replays)")
    out = runner.add_argument_group("scanning and output")
    out.add_argument("--debounce", type=float, default=2.0, metavar="S", help="one verdict per QR held this long")
    out.add_argument(
        "--claims", choices=CLAIMS_CHOICES, default="minimal", help="claims in each line (default minimal)"
    )
    out.add_argument("--scan-budget", type=float, default=DEFAULT_SCAN_BUDGET_MS, metavar="MS",
                     help="time per frame for the scan ladder (default: %(default)s ms)")  # fmt: skip
    out.add_argument("--backend", default="auto", choices=("auto", "zxing", "pyzbar"), help="primary QR decoder")
    out.add_argument("--workers", type=int, default=1, metavar="N", help="verifier processes for --stdin")
    out.add_argument("--width", type=int, default=0, help="camera frame width to request")
    out.add_argument("--height", type=int, default=0, help="camera frame height to request")
    out.add_argument("--new-only", action="store_true", help="--images: ignore files already there at start")
    out.add_argument("--once", action="store_true", help="--images: one sweep of the folder, then stop")
    out.add_argument("--on-valid", metavar="CMD", help="run CMD on each VALID verdict (line on its stdin)")
    out.add_argument("--on-invalid", metavar="CMD", help="run CMD on each refusal (line on its stdin)")
    challenge = runner.add_argument_group("challenge mode (holder binding)")
    challenge.add_argument("--gate-id", metavar="ID", help="this gate's id in its GIDC1: challenges (1-64 characters)")
    challenge.add_argument("--challenge-png", metavar="PATH", help="write the current challenge QR here (PNG)")
    challenge.add_argument("--challenge-text", metavar="PATH", help="write the current GIDC1: text here")
    challenge.add_argument("--challenge-every", type=float, default=30.0, metavar="S",
                           help="rotate the challenge every S seconds (default: %(default)s)")  # fmt: skip
    runner.set_defaults(func=cmd_gate_run)
