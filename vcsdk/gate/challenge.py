"""Challenge mode for the gate loop: the current ``GIDC1:`` challenge written to files, rotated.

:class:`ChallengeBoard` asks the :class:`~vcsdk.gate.core.Gate` for a fresh challenge (the gate's
:class:`~vcsdk.verify.presentation.PresentationGuard` remembers its nonce), renders it as a PNG
QR code and/or writes its text, each file replaced atomically (temporary file, rename), so a
display or a kiosk browser never reads half a file. :class:`ChallengeRotator` does that every
``every`` seconds on a thread. Older nonces stay outstanding until the guard forgets them (twice
window plus leeway), so a phone that scanned the previous QR just before a rotation still passes.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError, VCError
from ..holder.challenge import Challenge
from ..keys.files import atomic_write


class ChallengeBoard:
    """Writes a new challenge from ``make`` (normally ``Gate.challenge``) to ``png`` and/or ``text``."""

    def __init__(
        self,
        make: Callable[[], Challenge],
        *,
        png: str | os.PathLike[str] | None = None,
        text: str | os.PathLike[str] | None = None,
        module_px: int = 8,
    ) -> None:
        if png is None and text is None:
            raise UsageError("challenge mode needs a file to write: --challenge-png and/or --challenge-text")
        self._make = make
        self.png = None if png is None else Path(png)
        self.text = None if text is None else Path(text)
        self._module_px = module_px
        self.current: Challenge | None = None
        self.rotations = 0

    def rotate(self) -> Challenge:
        """Make a fresh challenge and write it (atomically); return it."""
        from ..qr import render_png  # Pillow and the QR encoder only when a PNG is asked for

        challenge = self._make()
        qr_text = challenge.to_text()
        if self.png is not None:
            atomic_write(self.png, render_png(qr_text, module_px=self._module_px))
        if self.text is not None:
            atomic_write(self.text, (qr_text + "\n").encode("ascii"))
        self.current = challenge
        self.rotations += 1
        return challenge


class ChallengeRotator:
    """Rotates a :class:`ChallengeBoard` every ``every`` seconds on a daemon thread."""

    def __init__(self, board: ChallengeBoard, every: float, report: Callable[[str], None] | None = None) -> None:
        if not every > 0:
            raise UsageError("--challenge-every must be a positive number of seconds")
        self.board = board
        self.every = every
        self._report = report or (lambda line: print(f"vcsdk {line}", file=sys.stderr, flush=True))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gate-challenge", daemon=True)

    def start(self) -> None:
        """Write the first challenge now (errors raise), then rotate in the background."""
        self.board.rotate()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.board.rotate()
            except (OSError, VCError) as exc:  # keep the loop up; the old challenge stays shown
                self._report(f"gate challenge not rotated: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


__all__ = ["ChallengeBoard", "ChallengeRotator"]
