"""The gate scan loop: frames or QR texts in, one JSON line per verdict out. A shell.

:class:`GateLoop` scans each frame with the :class:`~vcsdk.qr.ladder.ScanLadder`, debounces the
same QR held in front of the camera (one verdict per presentation, however many frames show it),
verifies through a checker (normally :meth:`BundleKeeper.check`, which fails closed while the
bundle is stale), and emits one JSON line per verdict with minimal claims by default, plus the
optional ``--on-valid`` / ``--on-invalid`` hooks. :func:`run` drives it from a source with a
bundle poller thread, SIGHUP (reload now) and SIGTERM (summary, clean exit).
It stays one module on purpose: the loop, its worker pool, the poller and the signal handling are
one shell around one run and are read together.

A verdict line::

    {"valid": true, "code": "VALID", "message": "...", "kid": "hex"|null,
     "claims": {"name": ..., "agency": ..., "rank": ..., "expires": "ISO 8601"}|null,
     "source": "camera:0#1234", "at": "2026-12-01T09:00:00Z", "latency_ms": 3.1}
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from ..clock import format_time
from ..errors import Code, CredentialInvalid, UsageError, VCError
from ..holder.presentation import PRESENTATION_PREFIX, decode_presentation
from ..keys import PublicKey
from ..qr.ladder import ScanLadder
from ..verify import Verification
from ..verify.presentation import DEFAULT_PRESENTATION_WINDOW
from ..verify.result import VerifiedCredential
from .fetch import BUNDLE_FILE, BundleKeeper
from .sources import Frame

CLAIMS_MODES = ("none", "minimal", "all")
MAX_HOOKS_RUNNING = 4
_DEBOUNCE_MEMORY = 256

Checker = Callable[[str], Verification[Any]]
BatchChecker = Callable[[list[str]], Sequence[Verification[Any]]]
Emit = Callable[[dict[str, Any]], None]


def shown_claims(result: Verification[Any], mode: str) -> dict[str, Any] | None:
    """The claims a verdict line shows: none, minimal (name, agency, rank, expiry) or all."""
    credential = result.credential
    if credential is None or mode == "none":
        return None
    if mode == "minimal" and type(credential) is VerifiedCredential:  # the gate's usual line, built directly
        c = credential.claims
        return {"name": c.name, "agency": c.agency, "rank": c.rank, "expires": _time(credential.expires_at)}
    everything: dict[str, Any] = credential.claims_json()
    if mode == "all":
        return everything
    minimal: dict[str, Any] = {key: everything[key] for key in ("name", "agency", "rank") if key in everything}
    expires = getattr(credential, "expires_at", None)
    if isinstance(expires, int):
        minimal["expires"] = format_time(expires)
    return minimal


@functools.lru_cache(maxsize=4096)
def _time(seconds: int) -> str:
    """:func:`format_time`, cached (verdict lines repeat expiry dates and the current second)."""
    return format_time(seconds)


_encode_string = json.encoder.encode_basestring
"""A JSON string literal with non-ASCII kept, as ``json.dumps(..., ensure_ascii=False)`` writes it."""
_LINE_KEYS = ("valid", "code", "message", "kid", "claims", "source", "at", "latency_ms")
_ENCODED_KEYS = {key: _encode_string(key) for key in ("name", "agency", "rank", "expires")}
"""The minimal claims' keys as JSON string literals (the usual line's claims)."""


def verdict_text(line: dict[str, Any]) -> str:
    """``json.dumps(line, ensure_ascii=False) + "\\n"`` byte for byte, built cheaply for the usual
    verdict line (:meth:`GateLoop.line` with no or minimal claims); any other line goes through
    ``json.dumps``."""
    # a plain dict only: a subclass may iterate, or give its values, otherwise than json.dumps reads its items
    if type(line) is not dict or tuple(line) != _LINE_KEYS:
        return json.dumps(line, ensure_ascii=False) + "\n"
    valid, code, message, kid, claims, source, at, latency = line.values()  # in _LINE_KEYS order
    if (
        (valid is not True and valid is not False)
        or type(latency) is not float
        or not math.isfinite(latency)  # json.dumps writes NaN and Infinity, repr nan and inf
        or not (type(code) is type(message) is type(source) is type(at) is str)
        or not (kid is None or type(kid) is str)
    ):
        return json.dumps(line, ensure_ascii=False) + "\n"
    encode = _encode_string
    if claims is None:
        shown = "null"
    elif type(claims) is dict:
        parts = []
        for key, value in claims.items():
            if type(key) is not str or type(value) is not str:
                return json.dumps(line, ensure_ascii=False) + "\n"
            parts.append(f"{_ENCODED_KEYS.get(key) or encode(key)}: {encode(value)}")
        shown = "{" + ", ".join(parts) + "}"
    else:
        return json.dumps(line, ensure_ascii=False) + "\n"
    return (
        f'{{"valid": {"true" if valid else "false"}, "code": {encode(code)}, "message": {encode(message)}, '
        f'"kid": {"null" if kid is None else encode(kid)}, "claims": {shown}, "source": {encode(source)}, '
        f'"at": {encode(at)}, "latency_ms": {latency!r}}}\n'
    )


class Hooks:
    """Runs ``--on-valid`` / ``--on-invalid`` commands without waiting for them.

    The command gets the verdict line on stdin and ``VCSDK_CODE`` in its environment; at most
    :data:`MAX_HOOKS_RUNNING` run at once (further verdicts skip the hook and are counted).
    """

    def __init__(self, on_valid: str | None = None, on_invalid: str | None = None) -> None:
        self._commands = {
            True: shlex.split(on_valid) if on_valid else None,
            False: shlex.split(on_invalid) if on_invalid else None,
        }
        self._running: list[subprocess.Popen[bytes]] = []
        self.started = 0
        self.skipped = 0

    def __call__(self, line: dict[str, Any]) -> None:
        command = self._commands[bool(line["valid"])]
        if command is None:
            return
        self._running = [process for process in self._running if process.poll() is None]
        if len(self._running) >= MAX_HOOKS_RUNNING:
            self.skipped += 1
            return
        environment = {**os.environ, "VCSDK_CODE": str(line["code"])}
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, env=environment)  # noqa: S603 (operator's command)
        except OSError as exc:
            print(f"vcsdk gate: hook {command[0]} failed to start: {exc}", file=sys.stderr)
            self.skipped += 1
            return
        assert process.stdin is not None
        try:
            process.stdin.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
            process.stdin.close()
        except OSError:
            pass  # the hook did not read its input: its business
        self._running.append(process)
        self.started += 1

    def close(self, timeout: float = 5.0) -> None:
        """Wait for running hooks (bounded), then leave none behind."""
        deadline = time.monotonic() + timeout
        for process in self._running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._running = []


class GateLoop:
    """Scans frames and answers texts: debounce, verify, emit one JSON line per verdict."""

    def __init__(
        self,
        check: Checker,
        emit: Emit,
        *,
        ladder: ScanLadder | None = None,
        debounce: float = 2.0,
        claims: str = "minimal",
        hooks: Callable[[dict[str, Any]], None] | None = None,
        wallclock: Callable[[], float] = time.time,
        flush: Callable[[], None] | None = None,
        check_many: BatchChecker | None = None,
    ) -> None:
        if claims not in CLAIMS_MODES:
            raise UsageError(f"--claims must be one of {', '.join(CLAIMS_MODES)}")
        if debounce < 0:
            raise UsageError("debounce cannot be negative")
        self._check = check
        self._check_many = check_many
        self._emit = emit
        self._ladder = ladder
        self.debounce = debounce
        self.claims = claims
        self._hooks = hooks
        self._wallclock = wallclock
        self.flush: Callable[[], None] = flush or (lambda: None)
        """Called after each frame's, text's or batch's lines are emitted (``emit`` need not flush)."""
        self._last_seen: OrderedDict[str, float] = OrderedDict()
        self.frames = 0
        self.decoded = 0
        self.debounced = 0
        self.verdicts: Counter[str] = Counter()
        self._started = time.perf_counter()
        self._lock = threading.Lock()

    def line(self, result: Verification[Any], origin: str, received: float) -> dict[str, Any]:
        """The JSON verdict line for ``result``."""
        return {
            "valid": result.valid,
            "code": str(result.code),
            "message": result.message,
            "kid": None if result.kid is None else result.kid.hex(),
            "claims": shown_claims(result, self.claims),
            "source": origin,
            "at": _time(int(self._wallclock())),
            "latency_ms": round((time.perf_counter() - received) * 1000, 3),
        }

    def publish(self, line: dict[str, Any]) -> None:
        """Count, emit and hook one verdict line."""
        with self._lock:
            self.verdicts[line["code"]] += 1
        self._emit(line)
        if self._hooks is not None:
            self._hooks(line)

    def _fresh(self, text: str, at: float) -> bool:
        """Whether ``text`` is a new presentation (not seen within ``debounce`` seconds)."""
        last = self._last_seen.pop(text, None)
        self._last_seen[text] = at
        while len(self._last_seen) > _DEBOUNCE_MEMORY:
            self._last_seen.popitem(last=False)
        return last is None or at - last > self.debounce or at < last

    def scan_frame(self, frame: Frame, *, report_misses: bool = False, debounce: bool = True) -> list[dict[str, Any]]:
        """Scan one frame; emit and return the verdict lines it produced (none while debounced).

        ``report_misses``: a frame without a QR (or an unreadable image) gets a line too, as for
        a folder of images where each file is a request; a camera's empty frames do not.
        """
        if self._ladder is None:
            raise UsageError("this loop has no scan ladder: it answers texts only")
        self.frames += 1
        try:
            codes = self._ladder.scan(frame.image).codes
        except CredentialInvalid as exc:  # QR_NOT_FOUND, IMAGE_INVALID
            if not report_misses:
                return []
            line = self.line(Verification(False, exc.code, exc.message), frame.origin, frame.received)
            self.publish(line)
            self.flush()
            return [line]
        lines = []
        for text in dict.fromkeys(code.text for code in codes):  # one verdict per distinct QR in the frame
            self.decoded += 1
            if debounce and not self._fresh(text, frame.at):
                self.debounced += 1
                continue
            line = self.line(self._check(text), frame.origin, frame.received)
            self.publish(line)
            lines.append(line)
        if lines:
            self.flush()
        return lines

    def answer(self, text: str, origin: str = "stdin") -> dict[str, Any]:
        """Verify one QR text at once and emit its line (no debounce: each line is a request)."""
        received = time.perf_counter()
        line = self.line(self._check(text), origin, received)
        self.publish(line)
        self.flush()
        return line

    def answer_many(self, texts: Iterable[str], origin: str = "stdin") -> list[dict[str, Any]]:
        """Verify texts that arrived together (through ``check_many`` when the loop has one: their
        signatures are verified as one batch) and emit their lines in order, then flush once."""
        received = time.perf_counter()
        lines = []
        try:
            results: Iterable[Verification[Any]]
            if self._check_many is not None:
                texts = list(texts)
                results = self._check_many(texts)
                if len(results) != len(texts):
                    raise UsageError("check_many must return one result per text")
            else:
                results = (self._check(text) for text in texts)
            for result in results:
                line = self.line(result, origin, received)
                self.publish(line)
                lines.append(line)
        finally:
            self.flush()  # also when SIGTERM stops the batch: every verdict made goes out
        return lines

    def summary(self) -> dict[str, Any]:
        """Scans, verdicts by code, frames per second since the loop started."""
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        return {
            "frames": self.frames,
            "decoded": self.decoded,
            "debounced": self.debounced,
            "scans": sum(self.verdicts.values()),
            "verdicts": dict(sorted(self.verdicts.items())),
            "frames_per_second": round(self.frames / elapsed, 2),
            "seconds": round(elapsed, 3),
        }


# ---------------------------------------------------------------------------- workers (stdin)

_worker: Any = None


def _worker_init(anchors: list[bytes], state_dir: str, at: int | None) -> None:
    global _worker
    from ..keys import Ed25519PublicKey

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the main process stops us
    from ..verify.presentation import PresentationGuard

    keys = [Ed25519PublicKey(raw) for raw in anchors]
    guard = PresentationGuard()  # one replay book per worker, kept across bundle reloads
    _worker = {"gate": None, "anchors": keys, "generation": -1, "state_dir": state_dir, "at": at, "guard": guard}


def _worker_check(
    generation: int, digest: str, text: str
) -> tuple[bool, str, str, str | None, dict[str, Any] | None, int | None]:
    if _worker["generation"] != generation:  # the main process swapped bundles: take the saved one
        import hashlib

        from ..clock import fixed_clock, system_clock
        from .core import Gate

        data = Path(_worker["state_dir"], BUNDLE_FILE).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:  # not the bundle the main process accepted
            return False, str(Code.GATE_STALE), "the saved bundle is not the one in force", None, None, None
        clock = system_clock if _worker["at"] is None else fixed_clock(_worker["at"])
        # the main process already enforced the floor
        fresh = Gate(_worker["anchors"], clock=clock, presentations=_worker["guard"])
        fresh.load(data)
        _worker["gate"], _worker["generation"] = fresh, generation
    gate = _worker["gate"]
    result = gate.check(text)
    claims = None if result.credential is None else result.credential.claims_json()
    expires = None if result.credential is None else result.credential.expires_at
    return (
        result.valid,
        str(result.code),
        result.message,
        None if result.kid is None else result.kid.hex(),
        claims,
        expires,
    )


class _WorkerResult:
    """A verdict rebuilt from a worker's answer, shaped like a :class:`Verification`."""

    def __init__(self, claims: dict[str, Any] | None, expires: int | None) -> None:
        self._claims = claims
        self.expires_at = expires

    def claims_json(self) -> dict[str, Any]:
        return dict(self._claims or {})


class WorkerPool:
    """Answers texts on ``workers`` processes, each line as soon as it is done, in input order.

    Any worker may verify any line, so the replay book that counts is the main process's: a
    presentation a worker accepted is recorded in the main gate's guard, and the same answer
    accepted again (by this worker or another) becomes ``PRESENTATION_REPLAYED``.
    """

    def __init__(
        self, keeper: BundleKeeper, anchors: Iterable[PublicKey], state_dir: str, workers: int, at: int | None = None
    ) -> None:
        if workers < 2:
            raise UsageError("a worker pool needs at least 2 workers")
        from ..keys import Ed25519PublicKey

        raw = [anchor.raw for anchor in anchors if isinstance(anchor, Ed25519PublicKey)]
        if not raw:
            raise UsageError("workers need Ed25519 trust anchors")
        self._keeper = keeper
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(raw, state_dir, at),
        )

    def submit(self, text: str) -> Future[Verification[Any]]:
        """Verify ``text`` in a worker (or refuse at once while the gate is stale)."""
        future: Future[Verification[Any]] = Future()
        state = self._keeper.state()
        if state.state != "ok":
            future.set_result(self._keeper.check(text))
            return future
        inner = self._pool.submit(_worker_check, self._keeper.reloads, self._keeper.in_force_sha256, text)

        def done(finished: Future[Any]) -> None:
            try:
                valid, code, message, kid, claims, expires = finished.result()
            except Exception as exc:  # a worker that died: fail closed for this line
                future.set_result(Verification(False, Code.GATE_STALE, f"worker failed: {exc}"))
                return
            if valid and text.lstrip().startswith(PRESENTATION_PREFIX):
                try:
                    self._record(text)
                except VCError as exc:
                    future.set_result(Verification(False, exc.code, exc.message, None, None))
                    return
            credential = _WorkerResult(claims, expires) if valid or claims is not None else None
            future.set_result(
                Verification(valid, Code(code), message, None if kid is None else bytes.fromhex(kid), credential)
            )

        inner.add_done_callback(done)
        return future

    def _record(self, text: str) -> None:
        """Count a presentation a worker accepted as used, in the main process (callbacks run
        on one thread; the guard has its own lock)."""
        gate = self._keeper.gate
        bundle = gate.bundle
        leeway = 0 if bundle is None else bundle.policy.leeway
        presentation = decode_presentation(text.strip())
        lifetime = 2 * (DEFAULT_PRESENTATION_WINDOW + leeway)
        gate.presentations.check_and_record(presentation, gate.clock(), lifetime)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def answer_batches(loop: GateLoop, batches: Iterable[list[str]]) -> None:
    """Answer each batch of lines that arrived together (one flush each) before reading on."""
    for texts in batches:
        loop.answer_many(texts)


def answer_stream(loop: GateLoop, lines: Iterable[str], pool: WorkerPool | None = None) -> None:
    """Answer each line as soon as it is verified (in input order), with or without workers."""
    if pool is None:
        for text in lines:
            loop.answer(text)
        return
    pending: queue.Queue[tuple[Future[Verification[Any]], float] | None] = queue.Queue()

    def writer() -> None:
        while (item := pending.get()) is not None:
            future, received = item
            loop.publish(loop.line(future.result(), "stdin", received))
            loop.flush()

    thread = threading.Thread(target=writer, name="gate-writer", daemon=True)
    thread.start()
    try:
        for text in lines:
            pending.put((pool.submit(text), time.perf_counter()))
    finally:
        pending.put(None)
        thread.join()


# ---------------------------------------------------------------------------- run


class Stop(Exception):
    """Raised in the main thread by SIGTERM / SIGINT: print the summary and exit cleanly."""


class Poller:
    """A thread that refreshes the bundle when due, at once on :meth:`reload` (SIGHUP), and one
    that writes the gate's replay book when it changed."""

    def __init__(self, keeper: BundleKeeper, report: Callable[[str], None], tick: float = 0.2) -> None:
        self._keeper = keeper
        self._report = report
        self._tick = tick
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._force = False
        self._last_line = ""
        self._thread = threading.Thread(target=self._run, name="gate-bundle-poller", daemon=True)
        # the replay book is saved on a thread of its own: a bundle poll may hang for seconds
        self._saver = threading.Thread(target=self._save, name="gate-replay-book", daemon=True)

    def start(self) -> None:
        self.announce()
        self._thread.start()
        self._saver.start()

    def _save(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                problem = self._keeper.save_replays()
            except Exception as exc:  # never let the saver die silently
                problem = f"gate replay book error: {type(exc).__name__}: {exc}"
            if problem is not None:
                self._report(problem)

    def reload(self) -> None:
        """Poll the source now, ignoring ETag, mtime and back-off (SIGHUP)."""
        self._force = True
        self._wake.set()

    def announce(self, always: bool = False) -> None:
        """Report the state line when it changed in kind (ok / stale / none, version, error)."""
        state = self._keeper.state()
        key = f"{state.state}|{state.bundle_version}|{state.last_error}"
        if always or key != self._last_line:
            self._last_line = key
            self._report(state.line())

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._tick)
            self._wake.clear()
            if self._stop.is_set():
                return
            force, self._force = self._force, False
            try:
                if force or self._keeper.due():
                    self._keeper.refresh(force=force)
                self.announce()
            except Exception as exc:  # never let the poller die silently: say so and keep polling
                self._report(f"gate poller error: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self._saver.join(timeout=5)


def _install_signals(poller: Poller) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stop(signal.Signals(signum).name)

    def hup(signum: int, frame: FrameType | None) -> None:
        poller.reload()

    previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, stop)
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, stop)
    if hasattr(signal, "SIGHUP"):
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, hup)
    return previous


def run(
    keeper: BundleKeeper,
    loop: GateLoop,
    *,
    frames: Iterator[Frame] | None = None,
    texts: Iterable[str] | None = None,
    batches: Iterable[list[str]] | None = None,
    pool: WorkerPool | None = None,
    report_misses: bool = False,
    debounce: bool = True,
    stop: threading.Event | None = None,
    report: Callable[[str], None] | None = None,
    out: TextIO | None = None,
) -> dict[str, Any]:
    """Run until the source ends or SIGTERM; return (and print to stderr) the summary."""
    say = report or (lambda text: print(f"vcsdk {text}", file=sys.stderr, flush=True))
    poller = Poller(keeper, say)
    poller.start()
    previous = _install_signals(poller)
    reason = "end of input"
    try:
        if batches is not None:
            answer_batches(loop, batches)
        elif texts is not None:
            answer_stream(loop, texts, pool)
        elif frames is not None:
            for frame in frames:
                loop.scan_frame(frame, report_misses=report_misses, debounce=debounce)
    except Stop as exc:
        reason = str(exc)
    finally:
        if stop is not None:
            stop.set()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        poller.close()
        if pool is not None:
            pool.close()
        problem = keeper.save_replays(force=True)
        if problem is not None:
            say(problem)
    state = keeper.state()
    summary = {
        "event": "summary",
        "reason": reason,
        **loop.summary(),
        "bundle_version": state.bundle_version,
        "bundle_age": state.bundle_age,
        "state": state.state,
        "bundle_reloads": keeper.reloads,
        "bundle_refusals": keeper.refusals,
    }
    print(json.dumps(summary, ensure_ascii=False), file=sys.stderr, flush=True)
    return summary


def describe_error(exc: VCError) -> str:
    """One line for an error that stops the loop before it starts."""
    return f"{exc.code}: {exc.message}"
