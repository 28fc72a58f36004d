"""A degraded-image set made from real issued credentials: what a gate camera sees.

Each distortion has a *mild* and a *harsh* setting; ``samples(...)`` yields reproducible images
(seeded) for the tests (mild: >= 99 % must decode) and the QR benchmark (rates per backend).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vcsdk.qr import render_png

Distortion = Callable[[Image.Image, random.Random, bool], Image.Image]


def base_image(text: str, module_px: int = 4) -> Image.Image:
    """The clean rendering (grayscale)."""
    return Image.open(io.BytesIO(render_png(text, module_px=module_px))).convert("L")


def _frame(image: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    frame = Image.new("L", size, 235)
    x = rng.randint(0, max(0, size[0] - image.width))
    y = rng.randint(0, max(0, size[1] - image.height))
    frame.paste(image, (x, y))
    return frame


def rotation(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    angle = rng.uniform(0, 360)
    rotated = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    return rotated.filter(ImageFilter.GaussianBlur(0.8)) if harsh else rotated


def _perspective_coefficients(src: Sequence[tuple[float, float]], dst: Sequence[tuple[float, float]]) -> list[float]:
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for point in src for c in point], dtype=float)
    return [float(c) for c in np.linalg.solve(a, b)]


def perspective(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    padded = Image.new("L", (image.width * 2, image.height * 2), 255)
    padded.paste(image, (image.width // 2, image.height // 2))
    w, h = padded.size
    q = image.width // 2
    src = [(q, q), (w - q, q), (w - q, h - q), (q, h - q)]
    shift = (0.18 if harsh else 0.02) * image.width
    dst = [(x + rng.uniform(-shift, shift), y + rng.uniform(-shift, shift)) for x, y in src]
    coefficients = _perspective_coefficients(src, dst)
    return padded.transform(
        padded.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR, fillcolor=255
    )


def scale(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    modules = image.width // 4
    target = modules * (2 if harsh else 3) + rng.randint(0, 3)  # 2 or 3 px per module
    small = image.resize((target, target), Image.Resampling.BILINEAR)
    return _frame(small, (1280, 720), rng)


def blur(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.6, 2.0) if harsh else rng.uniform(0.6, 1.0)))


def noise(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    sigma = 55 if harsh else 25
    generator = np.random.default_rng(rng.randint(0, 2**32 - 1))
    pixels = np.asarray(image, dtype=float) + generator.normal(0, sigma, (image.height, image.width))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def jpeg(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=8 if harsh else 30)
    return Image.open(io.BytesIO(out.getvalue())).convert("L")


def low_contrast(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    dark, light = (118, 138) if harsh else (90, 170)
    lut = [dark + (light - dark) * v // 255 for v in range(256)]
    return image.point(lut)


def glare(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    overlay = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(overlay)
    share = 0.28 if harsh else 0.15
    rx, ry = image.width * share, image.height * share * 0.6
    cx, cy = rng.uniform(rx, image.width - rx), rng.uniform(ry, image.height - ry)
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255 if harsh else 150)
    overlay = overlay.filter(ImageFilter.GaussianBlur(image.width * 0.03))
    pixels = np.asarray(image, dtype=float)
    shine = np.asarray(overlay, dtype=float) / 255
    return Image.fromarray(np.clip(pixels + (255 - pixels) * shine, 0, 255).astype(np.uint8))


def inverted(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    flipped = image.point(lambda v: 255 - v)
    return flipped.filter(ImageFilter.GaussianBlur(1.2)) if harsh else flipped


def moire(image: Image.Image, rng: random.Random, harsh: bool) -> Image.Image:
    """A photo of a phone screen: an interference pattern of two slightly rotated grids."""
    height, width = image.height, image.width
    y, x = np.mgrid[0:height, 0:width].astype(float)
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(3.0, 5.0)
    u = x * math.cos(angle) + y * math.sin(angle)
    pattern = np.sin(2 * math.pi * u / period) * np.sin(2 * math.pi * (x - y) / (period * 7))
    amplitude = 70 if harsh else 30
    pixels = np.asarray(image, dtype=float) + amplitude * pattern
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))


DISTORTIONS: dict[str, Distortion] = {
    "rotation": rotation,
    "perspective": perspective,
    "scale": scale,
    "blur": blur,
    "noise": noise,
    "jpeg_q30": jpeg,
    "low_contrast": low_contrast,
    "glare": glare,
    "inverted": inverted,
    "moire": moire,
}


def samples(
    texts: list[str], name: str, *, harsh: bool, count: int, seed: int = 1
) -> Iterator[tuple[str, Image.Image]]:
    """``count`` distorted images (with the text each holds), reproducible from ``seed``."""
    rng = random.Random(f"{seed}-{name}-{harsh}")
    bases = {text: base_image(text) for text in texts}
    for i in range(count):
        text = texts[i % len(texts)]
        yield text, DISTORTIONS[name](bases[text], rng, harsh)
