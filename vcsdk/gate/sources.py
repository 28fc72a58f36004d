"""Where a gate's scans come from: a camera, a video file, a watched folder of images, or QR
texts on a stream (one per line). A shell: OpenCV (``opencv-python-headless``, the optional
extra ``vcsdk[gate]``) is imported only by the camera and video sources.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import UsageError
from ..limits import DEFAULT_LIMITS

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})


@dataclass(frozen=True, slots=True)
class Frame:
    """One image to scan: pixels (a grayscale numpy array) or an image file, with its time."""

    image: Any = field(repr=False)
    at: float
    """Seconds on the source's own clock (video position, or monotonic time for live sources)."""
    origin: str
    """Where it came from: ``camera:0#17``, ``video:gate.avi#17``, ``images:photo.png``."""
    received: float = field(default_factory=time.perf_counter)
    """``time.perf_counter()`` when the frame came in (for latency)."""


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise UsageError(
            "camera and video sources need OpenCV: pip install 'vcsdk[gate]' (opencv-python-headless)"
        ) from None
    return cv2


def _gray(cv2: Any, frame: Any) -> Any:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def video_frames(path: str | os.PathLike[str], *, stop: threading.Event | None = None) -> Iterator[Frame]:
    """Every frame of a video file, timed by its position in the video (frame / fps)."""
    cv2 = _cv2()
    if not Path(path).is_file():
        raise UsageError(f"no such video file: {path}")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise UsageError(f"cannot open video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    name = Path(path).name
    try:
        index = 0
        while stop is None or not stop.is_set():
            ok, frame = capture.read()
            if not ok:
                break
            yield Frame(_gray(cv2, frame), index / fps, f"video:{name}#{index}")
            index += 1
    finally:
        capture.release()


def camera_frames(
    index: int, *, stop: threading.Event | None = None, width: int = 0, height: int = 0
) -> Iterator[Frame]:
    """Frames from camera ``index`` until ``stop`` is set, timed by the monotonic clock."""
    cv2 = _cv2()
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise UsageError(f"cannot open camera {index}")
    capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not one queued while the ladder climbed
    if width and height:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    try:
        number = 0
        failures = 0
        while stop is None or not stop.is_set():
            ok, frame = capture.read()
            if not ok:
                failures += 1
                if failures > 50:
                    raise UsageError(f"camera {index} stopped delivering frames")
                time.sleep(0.02)
                continue
            failures = 0
            yield Frame(_gray(cv2, frame), time.monotonic(), f"camera:{index}#{number}")
            number += 1
    finally:
        capture.release()


def folder_images(
    directory: str | os.PathLike[str],
    *,
    stop: threading.Event | None = None,
    poll: float = 0.1,
    existing: bool = True,
    once: bool = False,
) -> Iterator[Frame]:
    """Image files appearing in ``directory``, each once, in name order per poll.

    A file is taken when its size and mtime held still over one poll (a writer still copying it
    is waited for; writing to a temporary name and renaming is best). Hidden files and names
    without an image suffix are ignored. ``existing=False`` skips what is there at start;
    ``once=True`` stops after the first sweep (no watching).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"no such folder: {directory}")
    done: set[str] = set()
    pending: dict[str, tuple[int, int]] = {}
    if not existing:
        done.update(entry.name for entry in os.scandir(folder))
    while stop is None or not stop.is_set():
        seen_now: dict[str, tuple[int, int]] = {}
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
        done.intersection_update(entry.name for entry in entries)  # forget removed files: memory stays bounded
        for entry in entries:
            name = entry.name
            if name in done or name.startswith(".") or Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                info = entry.stat()
            except FileNotFoundError:
                continue
            if not entry.is_file():
                continue
            signature = (info.st_size, info.st_mtime_ns)
            if once or (pending.get(name) == signature and info.st_size > 0):
                done.add(name)
                yield Frame(entry.path, time.monotonic(), f"images:{name}")
            else:
                seen_now[name] = signature
        pending = seen_now
        if once and not pending:
            return
        if stop is not None:
            if stop.wait(poll):
                return
        else:
            time.sleep(poll)


MAX_LINE_CHARS = 2 * DEFAULT_LIMITS.max_text_chars + 2
"""Longest line kept from a text stream; a longer one is cut here (and then refused by the
verifier as ``LIMIT_EXCEEDED``), its rest read and dropped without being held."""


def text_lines(stream: TextIO, *, max_chars: int = MAX_LINE_CHARS) -> Iterator[str]:
    """QR texts, one per line (the line break removed), read as they arrive; memory per line bounded."""
    while True:
        line = stream.readline(max_chars)
        if not line:
            return
        if len(line) == max_chars and not line.endswith("\n"):
            while (rest := stream.readline(65536)) and not rest.endswith("\n"):
                pass  # drain an over-long line without keeping it
        yield line.rstrip("\r\n")


READ_BYTES = 65536
"""The most one read of :func:`text_batches` takes."""


def text_batches(stream: TextIO, *, max_line: int = MAX_LINE_CHARS) -> Iterator[list[str]]:
    """QR texts, one per line, in batches of the lines already available: never waits for more
    input while complete lines are ready, so each batch is answered (and flushed) before waiting.

    Lines end at LF, CR LF or CR; a line that is not UTF-8 stays one (invalid) text; memory per
    line is bounded by ``max_line`` bytes. A text stream without a byte buffer gives one line per batch.
    """
    read1 = getattr(getattr(stream, "buffer", None), "read1", None)
    if read1 is None:  # already text (e.g. replaced in tests)
        for line in stream:
            yield [line.rstrip("\r\n")]
        return
    pending = b""
    dropping = False  # the pending line is over-long: the rest of it, up to its line break, is dropped
    skip_lf = False  # the last line ended at a CR: an LF right after it completes that CR LF
    while data := read1(READ_BYTES):
        if skip_lf:
            skip_lf, data = False, data[1:] if data.startswith(b"\n") else data
        if dropping:
            ends = [at for at in (data.find(b"\n"), data.find(b"\r")) if at >= 0]
            if not ends:
                continue
            data, dropping = data[min(ends) :], False
        lines = (pending + data).splitlines(keepends=True)
        pending = b""
        if lines and not lines[-1].endswith((b"\n", b"\r")):
            pending = lines.pop()  # incomplete: the rest comes with a later read
            if len(pending) > max_line:
                pending, dropping = pending[:max_line], True
        if lines:
            skip_lf = lines[-1].endswith(b"\r")
            yield [_text(line, max_line) for line in lines]
    if pending:
        yield [_text(pending, max_line)]


def _text(line: bytes, max_line: int) -> str:
    return line.rstrip(b"\r\n")[:max_line].decode("utf-8", "replace")
