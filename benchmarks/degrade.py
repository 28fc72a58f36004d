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


# ------------------------------------------------------------------ the harsher gate-camera set
# What a gate camera sees of a phone held up to it: each image is a camera frame (640x480 or
# 1280x720) with one credential QR in it, made worse in one way at a time. Used by the gate
# tests (a few images) and benchmarks.ladder (decode rate per variant and per backend).


def _camera(image: Image.Image, rng: random.Random, size: tuple[int, int] = (640, 480), px: float = 0.0) -> Image.Image:
    """The QR scaled to ``px`` pixels per module (random 2.6-3.4 when 0) in a camera frame."""
    modules = image.width // 4
    px = px or rng.uniform(2.6, 3.4)
    side = round(modules * px)
    code = image.resize((side, side), Image.Resampling.BILINEAR)
    frame = Image.new("L", size, rng.randint(150, 210))
    frame.paste(code, ((size[0] - side) // 2 + rng.randint(-20, 20), (size[1] - side) // 2 + rng.randint(-20, 20)))
    return frame.filter(ImageFilter.GaussianBlur(0.6))


def _homography(width: int, height: int, degrees: float, rng: random.Random) -> list[float]:
    """Pillow PERSPECTIVE coefficients for a plane rotated ``degrees`` about a random in-plane
    axis through the centre, seen by a pinhole camera (focal length 1.5x the width)."""
    axis = rng.uniform(0, math.pi)
    ax, ay = math.cos(axis), math.sin(axis)
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    # Rodrigues rotation about (ax, ay, 0)
    r = np.array(
        [
            [c + ax * ax * (1 - c), ax * ay * (1 - c), ay * s],
            [ax * ay * (1 - c), c + ay * ay * (1 - c), -ax * s],
            [-ay * s, ax * s, c],
        ]
    )
    f = 1.5 * width
    cx, cy = width / 2, height / 2
    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    projected = []
    for x, y in corners:
        p = r @ np.array([x - cx, y - cy, 0.0]) + np.array([0.0, 0.0, f])
        projected.append((cx + f * p[0] / p[2], cy + f * p[1] / p[2]))
    return _perspective_coefficients(corners, projected)


def tilt25(image: Image.Image, rng: random.Random, harsh: bool = True) -> Image.Image:
    """The phone tilted 10-25 degrees away from the camera's axis."""
    frame = _camera(image, rng, px=rng.uniform(3.0, 3.6))
    coefficients = _homography(frame.width, frame.height, rng.uniform(10, 25), rng)
    fill = frame.getpixel((0, 0))
    return frame.transform(
        frame.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR, fillcolor=fill
    )


def motion_blur(image: Image.Image, rng: random.Random, harsh: bool = True) -> Image.Image:
    """The phone moving: a line blur of 3-5 px (about one module) at a random angle."""
    frame = np.asarray(_camera(image, rng, px=rng.uniform(3.2, 3.8)), dtype=float)
    length = rng.uniform(3, 5)
    angle = rng.uniform(0, math.pi)
    steps = max(2, round(length * 2))
    total = np.zeros_like(frame)
    for i in range(steps):
        d = (i / (steps - 1) - 0.5) * length
        total += np.roll(frame, (round(d * math.sin(angle)), round(d * math.cos(angle))), axis=(0, 1))
    return Image.fromarray(np.clip(total / steps, 0, 255).astype(np.uint8))


def screen_photo(image: Image.Image, rng: random.Random, harsh: bool = True) -> Image.Image:
    """A phone screen photographed: pixel-grid moiré, a glare patch, slight tilt and softness."""
    frame = _camera(image, rng, px=rng.uniform(3.2, 3.8))
    height, width = frame.height, frame.width
    y, x = np.mgrid[0:height, 0:width].astype(float)
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(2.2, 3.2)
    u = x * math.cos(angle) + y * math.sin(angle)
    pattern = np.sin(2 * math.pi * u / period) * np.sin(2 * math.pi * (x + y) / (period * 9))
    pixels = np.asarray(frame, dtype=float) * 0.85 + 20 + 35 * pattern
    cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
    rx, ry = width * rng.uniform(0.08, 0.14), height * rng.uniform(0.06, 0.12)
    shine = np.exp(-(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)) * rng.uniform(0.5, 0.75)
    pixels = pixels + (255 - pixels) * shine
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
    coefficients = _homography(width, height, rng.uniform(3, 10), rng)
    return photo.transform(
        photo.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR, fillcolor=128
    )


def low_light(image: Image.Image, rng: random.Random, harsh: bool = True) -> Image.Image:
    """A dark entrance: the frame at 12-25 % of its brightness with sensor noise (sigma 4-7)."""
    frame = np.asarray(_camera(image, rng, px=rng.uniform(3.0, 3.6)), dtype=float)
    generator = np.random.default_rng(rng.randint(0, 2**32 - 1))
    pixels = frame * rng.uniform(0.12, 0.25) + 6 + generator.normal(0, rng.uniform(4, 7), frame.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def camera_jpeg(image: Image.Image, rng: random.Random, harsh: bool = True) -> Image.Image:
    """A camera frame saved as JPEG quality 30, slightly tilted."""
    frame = _camera(image, rng, px=rng.uniform(2.8, 3.4))
    coefficients = _homography(frame.width, frame.height, rng.uniform(0, 10), rng)
    frame = frame.transform(
        frame.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR, fillcolor=180
    )
    out = io.BytesIO()
    frame.save(out, format="JPEG", quality=30)
    return Image.open(io.BytesIO(out.getvalue())).convert("L")


def small_in_frame(image: Image.Image, rng: random.Random, harsh: bool = True) -> Image.Image:
    """The phone far away: 2.0-2.4 pixels per module in a 1280x720 frame."""
    return _camera(image, rng, size=(1280, 720), px=rng.uniform(2.0, 2.4))


HARSH: dict[str, Distortion] = {
    "tilt_25deg": tilt25,
    "motion_blur": motion_blur,
    "screen_photo": screen_photo,
    "low_light": low_light,
    "camera_jpeg_q30": camera_jpeg,
    "small_in_frame": small_in_frame,
}
"""The harsher gate-camera set (one distortion each, camera frames)."""


def harsh_samples(texts: list[str], name: str, *, count: int, seed: int = 1) -> Iterator[tuple[str, Image.Image]]:
    """``count`` camera frames of the harsher set (with the text each holds), reproducible from ``seed``."""
    rng = random.Random(f"{seed}-harsh-{name}")
    bases = {text: base_image(text, module_px=4) for text in texts}
    for i in range(count):
        text = texts[i % len(texts)]
        yield text, HARSH[name](bases[text], rng, True)


# ------------------------------------------------------------------ the harsher set's report
# python -m benchmarks.degrade [--quick] [--json PATH]: decode rate of each ladder step alone and
# of each backend, the ladder end to end (decoded and verified VALID), and the ladder's frames per
# second at 640x480 and 1280x720.


def run(quick: bool = False) -> dict[str, object]:
    import contextlib
    import json
    import statistics
    import time
    from pathlib import Path

    from vcsdk import Ed25519PrivateKey, Issuer, StatusPolicy, StatusReference, Verifier, fixed_clock
    from vcsdk.errors import QRNotFound
    from vcsdk.qr.ladder import VARIANTS, ScanLadder
    from vcsdk.qr.scan import available_backends, decode, load_image

    now = 1_780_000_000
    claims = json.loads((Path(__file__).resolve().parent.parent / "examples" / "reference-claims.json").read_text())
    key = Ed25519PrivateKey(bytes(range(32)))
    issuer = Issuer(key, "KR-MOIS", clock=fixed_clock(now))
    texts = [
        issuer.issue(claims, status=StatusReference(i * 7919, "https://id.mois.go.kr/sl/7")).qr_text for i in range(4)
    ]
    verifier = Verifier([key.public_key], clock=fixed_clock(now + 10), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    count = 10 if quick else 50
    backends = available_backends()
    steps = [f"plain/{b}" for b in backends] + [f"{v}/{b}" for v in VARIANTS for b in backends]
    rates: dict[str, dict[str, int]] = {}
    ladder_rows: dict[str, dict[str, object]] = {}
    total_ok = total = 0
    for name in HARSH:
        ladder = ScanLadder(budget=0.1)
        row = dict.fromkeys(steps, 0)
        ok = 0
        times = []
        for text, image in harsh_samples(texts, name, count=count, seed=7):
            gray = load_image(image)
            for step in steps:
                variant, backend = step.split("/")
                candidate = gray if variant == "plain" else VARIANTS[variant](gray)
                row[step] += any(c.text == text for c in decode(candidate, backend))
            start = time.perf_counter()
            try:
                found = ladder.scan(gray).codes
                ok += any(c.text == text and verifier.check(c.text).valid for c in found)
            except QRNotFound:
                pass
            times.append(time.perf_counter() - start)
        rates[name] = row
        ladder_rows[name] = {
            "end_to_end": ok,
            "of": count,
            "ms_per_frame": round(statistics.median(times) * 1000, 2),
            "winning_steps": {k: v for k, v in ladder.successes.items() if v},
        }
        total_ok += ok
        total += count
    fps: dict[str, dict[str, float]] = {}
    for size in ((640, 480), (1280, 720)):
        ladder = ScanLadder()
        label = f"{size[0]}x{size[1]}"
        frame = _camera(base_image(texts[0]), random.Random(1), size=size, px=3.0)
        empty = Image.new("L", size, 180)
        rounds = 5 if quick else 20
        for what, image in (("with_qr", frame), ("empty_full_budget", empty)):

            def once(image: Image.Image = image, ladder: ScanLadder = ladder) -> None:
                with contextlib.suppress(QRNotFound):
                    ladder.scan(image)

            seconds = min(statistics.median([_timed(once) for _ in range(rounds)]), 10.0)
            fps.setdefault(label, {})[what] = round(1 / seconds, 1)
        gray = load_image(frame)
        for backend in backends:  # each backend alone on the same frame (plain decode)

            def plain(image: Image.Image = gray, backend: str = backend) -> None:
                decode(image, backend)

            seconds = statistics.median([_timed(plain) for _ in range(rounds)])
            fps[label][f"plain_{backend}"] = round(1 / seconds, 1)
    return {
        "benchmark": "harsher degraded set",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "images_per_distortion": count,
        "single_step_rates": rates,
        "ladder": ladder_rows,
        "end_to_end_rate": round(total_ok / total, 4),
        "ladder_frames_per_second": fps,
    }


def _timed(func: Callable[[], None]) -> float:
    import time

    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    from benchmarks import _cli

    args = _cli.parse("harsher degraded set: decode rates per ladder step and backend", argv)
    report = run(quick=args.quick)
    rates = report["single_step_rates"]
    ladder = report["ladder"]
    assert isinstance(rates, dict) and isinstance(ladder, dict)
    steps = list(next(iter(rates.values())))
    print("| distortion | " + " | ".join(steps) + " | ladder end to end |")
    print("|---|" + "---:|" * (len(steps) + 1))
    for name, row in rates.items():
        cells = " | ".join(str(row[step]) for step in steps)
        print(f"| {name} | {cells} | **{ladder[name]['end_to_end']}/{ladder[name]['of']}** |")
    print(f"end to end: {report['end_to_end_rate']:.1%}; ladder frames/s: {report['ladder_frames_per_second']}")
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
