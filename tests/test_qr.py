"""QR images: capacity, render -> scan -> verify round trips, the degraded set, hostile images."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from pathlib import Path

import cairosvg
import numpy as np
import pytest
from PIL import Image

from benchmarks.degrade import DISTORTIONS, samples
from tests.conftest import NOW, SEED, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusPolicy, StatusReference, Verifier, fixed_clock
from vcsdk.errors import ImageInvalid, QRNotFound, QRSizeBudgetExceeded, UsageError
from vcsdk.qr import available_backends, fits, plan, render_png, render_svg, scan, version_for

KEY = Ed25519PrivateKey(SEED)
BACKENDS = available_backends()
VERIFIER = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)


def credentials(count: int) -> list[str]:
    issuer = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW))
    return [
        issuer.issue(
            reference_claims(), status=StatusReference(i * 7919 % 131072, "https://id.mois.go.kr/sl/7")
        ).qr_text
        for i in range(count)
    ]


def test_both_backends_are_installed_for_the_tests() -> None:
    assert BACKENDS == ["zxing", "pyzbar"]


def test_capacity_planner() -> None:
    assert version_for(574, "Q") == 18
    assert version_for(575, "Q") == 19
    assert version_for(4296, "L") == 40
    assert version_for(4297, "L") is None
    text = credentials(1)[0]
    assert plan(text)["Q"] == fits(text) <= 18
    with pytest.raises(QRSizeBudgetExceeded):
        fits("GID1:" + "A" * 570)
    with pytest.raises(UsageError):
        plan("gid1:lowercase")
    with pytest.raises(UsageError):
        version_for(10, "X")


@pytest.mark.parametrize("ecc", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_issue_render_scan_verify_round_trip(ecc: str, backend: str) -> None:
    text = credentials(1)[0]
    png = render_png(text, ecc=ecc)
    svg_raster = cairosvg.svg2png(bytestring=render_svg(text, ecc=ecc, mm=50), output_width=900)
    for image in (png, svg_raster):
        (found,) = scan(image, backend=backend)
        assert found.text == text
        assert len(found.polygon) == 4
        assert VERIFIER.check(found.text).code == Code.VALID


def test_print_size_in_millimetres() -> None:
    text = credentials(1)[0]
    image = Image.open(io.BytesIO(render_png(text, mm=50, dpi=300)))
    side_mm = image.width / 300 * 25.4
    assert 45 <= side_mm <= 55
    assert image.info["dpi"][0] == pytest.approx(300, abs=1)
    with pytest.raises(UsageError):
        render_png(text, border=2)  # the quiet zone is 4 modules


def test_inputs_path_pillow_numpy(tmp_path: Path) -> None:
    text = credentials(1)[0]
    path = tmp_path / "qr.png"
    path.write_bytes(render_png(text))
    image = Image.open(path)
    for source in (path, str(path), image, np.asarray(image.convert("L")), path.read_bytes()):
        assert scan(source)[0].text == text


@pytest.mark.parametrize("backend", BACKENDS)
def test_degraded_set_mild_at_least_99_percent_and_harsh_reported(backend: str) -> None:
    texts = credentials(4)
    report = {}
    for harsh in (False, True):
        for name in DISTORTIONS:
            count = 20 if not harsh else 8
            ok = 0
            for text, image in samples(texts, name, harsh=harsh, count=count):
                with contextlib.suppress(QRNotFound):
                    ok += any(code.text == text for code in scan(image, backend=backend))
            report[(name, harsh)] = (ok, count)
    mild_ok = sum(ok for (name, harsh), (ok, _) in report.items() if not harsh)
    mild_total = sum(n for (name, harsh), (_, n) in report.items() if not harsh)
    lines = [f"{name:13} {'harsh' if harsh else 'mild '} {ok}/{n}" for (name, harsh), (ok, n) in report.items()]
    print(f"\n{backend}: mild {mild_ok}/{mild_total}\n" + "\n".join(lines))
    assert mild_ok >= 0.99 * mild_total


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_images_give_clear_errors(backend: str, tmp_path: Path) -> None:
    blank = io.BytesIO()
    Image.new("L", (640, 480), 255).save(blank, format="PNG")
    with pytest.raises(QRNotFound):
        scan(blank.getvalue(), backend=backend)
    with pytest.raises(ImageInvalid):
        scan(b"\x89PNG\r\n\x1a\n garbage", backend=backend)
    with pytest.raises(ImageInvalid):
        scan(_png_header_only(20_000, 20_000), backend=backend)  # 400 M pixels: bomb guard
    with pytest.raises(ImageInvalid):
        scan(tmp_path / "missing.png", backend=backend)
    with pytest.raises(UsageError):
        scan(12345, backend=backend)
    foreign = scan(render_png("HELLO WORLD"), backend=backend)[0].text
    assert VERIFIER.check(foreign).code == Code.INVALID_SCHEME_PREFIX
