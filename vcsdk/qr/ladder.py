"""The scan ladder: when the fast decoder finds nothing in a frame, retry cheap variants of it
within a per-frame time budget, and remember which variant succeeds.

A gate camera sees tilted phone screens, moiré, glare, low light and motion blur. One decoder
pass on the raw frame handles most of them; the ladder climbs only when it fails:

==============  ==========================================================================
``plain``       the frame as it is, primary backend (always tried first, whatever the budget)
``otsu``        global binarisation at Otsu's threshold (from the 256-bin histogram)
``downscale``   half size (box filter): averages moiré, sensor noise and JPEG blocks away
``adaptive``    local binarisation: ink where darker than the local mean by a margin (glare,
                uneven light)
``sharpen``     unsharp mask (motion and focus blur)
``stretch``     contrast stretch, 1 % cut at both ends (low light, washed-out screens)
``<backend>``   the other backend on the plain frame (zxing-cpp and zbar fail differently)
==============  ==========================================================================

Variants after ``plain`` run in order of past success (the last winner first), and only while
the frame's budget lasts. Pixels in, texts out: the ladder never verifies anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops, ImageFilter, ImageOps

from ..errors import QRNotFound, UsageError
from .scan import ScannedCode, available_backends, decode, load_image

Variant = Callable[[Image.Image], Image.Image]

DEFAULT_BUDGET_SECONDS = 0.05
"""Time per frame for the whole ladder (the plain pass always runs)."""


def otsu_threshold(image: Image.Image) -> int:
    """Otsu's threshold of a grayscale image, from its histogram."""
    histogram = image.histogram()[:256]
    total = sum(histogram)
    weighted = sum(i * h for i, h in enumerate(histogram))
    background = background_sum = 0
    best, threshold = -1.0, 127
    for level, count in enumerate(histogram):
        background += count
        if background == 0:
            continue
        foreground = total - background
        if foreground == 0:
            break
        background_sum += level * count
        mean_b = background_sum / background
        mean_f = (weighted - background_sum) / foreground
        between = background * foreground * (mean_b - mean_f) ** 2
        if between > best:
            best, threshold = between, level
    return threshold


def downscale(image: Image.Image) -> Image.Image:
    return image.reduce(2) if min(image.size) >= 200 else image


def otsu(image: Image.Image) -> Image.Image:
    threshold = otsu_threshold(image)
    return image.point(lambda v: 255 if v > threshold else 0)


def adaptive(image: Image.Image) -> Image.Image:
    radius = max(4, min(image.size) // 40)
    local_mean = image.filter(ImageFilter.BoxBlur(radius))
    darker = ImageChops.subtract(local_mean, image)  # how much darker than around it, clipped at 0
    return darker.point(lambda v: 0 if v > 6 else 255)


def sharpen(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=2))


def stretch(image: Image.Image) -> Image.Image:
    return ImageOps.autocontrast(image, cutoff=1)


VARIANTS: dict[str, Variant] = {
    "otsu": otsu,
    "downscale": downscale,
    "adaptive": adaptive,
    "sharpen": sharpen,
    "stretch": stretch,
}
"""The image variants, by name (``plain`` and the other backend are added by the ladder)."""


@dataclass(frozen=True, slots=True)
class LadderScan:
    """What the ladder found in one frame, and how."""

    codes: tuple[ScannedCode, ...]
    variant: str
    """``plain``, a :data:`VARIANTS` name, or the other backend's name."""
    attempts: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    backend: str
    transform: Variant | None


class ScanLadder:
    """Decode a frame with the fast decoder, then climb cheap variants within ``budget`` seconds.

    Thread-safe; the success counts (:attr:`successes`) order the variants for the next frame.
    """

    def __init__(
        self,
        *,
        backend: str = "auto",
        budget: float = DEFAULT_BUDGET_SECONDS,
        variants: Iterable[str] | None = None,
        other_backend: bool = True,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        available = available_backends()
        if not available:
            raise UsageError("no QR scanning backend: install zxing-cpp, or pyzbar with libzbar0")
        if backend == "auto":
            backend = available[0]
        elif backend not in available:
            raise UsageError(f"backend {backend!r} is not installed here (available: {', '.join(available)})")
        if budget < 0:
            raise UsageError("the scan budget cannot be negative")
        names = list(VARIANTS) if variants is None else list(variants)
        unknown = [name for name in names if name not in VARIANTS]
        if unknown:
            raise UsageError(f"unknown scan variants: {', '.join(unknown)} (known: {', '.join(VARIANTS)})")
        self.backend = backend
        self.budget = budget
        self._timer = timer
        self._plain = _Step("plain", backend, None)
        steps = [_Step(name, backend, VARIANTS[name]) for name in names]
        others = [name for name in available if name != backend]
        if other_backend and others:
            steps.append(_Step(others[0], others[0], None))
        self._steps = steps
        self._successes: dict[str, int] = {"plain": 0, **{step.name: 0 for step in steps}}
        self._last: str | None = None
        self._lock = threading.Lock()

    @property
    def successes(self) -> Mapping[str, int]:
        """Frames decoded so far by each step (``plain`` first)."""
        with self._lock:
            return dict(self._successes)

    @property
    def order(self) -> tuple[str, ...]:
        """The order the next frame will climb in (after ``plain``)."""
        with self._lock:
            return tuple(step.name for step in self._ordered())

    def _ordered(self) -> list[_Step]:
        # the last winner first, then by successes; sorted() is stable: ties keep the configured order
        return sorted(self._steps, key=lambda step: (step.name != self._last, -self._successes[step.name]))

    def scan(self, source: Any) -> LadderScan:
        """Every QR code in the frame; raises ``QR_NOT_FOUND`` when no step within budget found one."""
        start = self._timer()
        image = load_image(source)
        with self._lock:
            steps = [self._plain, *self._ordered()]
        attempts = 0
        for step in steps:
            if attempts and self._timer() - start >= self.budget:
                break
            attempts += 1
            candidate = image if step.transform is None else step.transform(image)
            codes = decode(candidate, step.backend)
            if codes:
                with self._lock:
                    self._successes[step.name] += 1
                    if step.name != "plain":
                        self._last = step.name
                return LadderScan(tuple(codes), step.name, attempts, self._timer() - start)
        raise QRNotFound(
            f"no QR code found in the image ({image.width}x{image.height}, {attempts} of {len(steps)} steps tried)"
        )
