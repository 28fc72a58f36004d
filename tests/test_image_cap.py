"""#11.11: no image makes ``qr scan`` / ``verify --image`` use more than 64 MiB or decode huge pixels.

Each case runs in a child process that reports its own peak memory (``VmHWM``) before and after
scanning one hostile image; the growth must stay under 64 MiB. Wall time is never asserted.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from vcsdk.errors import Code, ImageInvalid
from vcsdk.qr import render_png, scan
from vcsdk.qr.scan import MAX_DECODED_BYTES, MAX_SCAN_PIXELS, load_image

MIB = 1024 * 1024

CHILD = r"""
import json, sys
from vcsdk.errors import VCError
from vcsdk.qr import render_png, scan

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM")

scan(render_png("GID1:WARMUP"))  # imports and backends loaded before the baseline
before = hwm()
try:
    codes = [c.text for c in scan(sys.argv[1])]
    code = "FOUND"
except VCError as exc:
    codes, code = [], str(exc.code)
print(json.dumps({"growth": hwm() - before, "code": code, "codes": codes}))
"""


def _child(path: Path) -> dict[str, object]:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc (Linux) to read the child's peak memory")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _palette_bomb(side: int) -> bytes:
    """A 1-bit palette PNG with a transparent colour: tiny on disk, huge once converted."""
    image = Image.new("P", (side, side), 0)
    image.putpalette([255, 255, 255, 0, 0, 0])
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True, bits=1, transparency=0)
    return out.getvalue()


def test_palette_png_bomb_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_palette_bomb(9400))  # ~11 KB on disk; 1.2 GB peak before the cap
    assert path.stat().st_size < 100_000
    result = _child(path)
    assert result["code"] == Code.IMAGE_INVALID
    assert isinstance(result["growth"], int) and result["growth"] < 64 * MIB


def test_largest_allowed_transparent_png_stays_under_64_mib(tmp_path: Path) -> None:
    side = int((MAX_DECODED_BYTES // 4) ** 0.5)  # just under the cap, RGBA: the most bytes per pixel
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    path = tmp_path / "big.png"
    image.save(path, "PNG")
    result = _child(path)
    assert result["code"] == Code.QR_NOT_FOUND
    assert isinstance(result["growth"], int) and result["growth"] < 64 * MIB
    Image.new("RGBA", (side + 200, side + 200)).save(path, "PNG")
    with pytest.raises(ImageInvalid, match="scan cap"):
        load_image(path)


def test_huge_jpeg_photo_is_decoded_at_reduced_scale_and_still_found(tmp_path: Path) -> None:
    code = Image.open(io.BytesIO(render_png("GID1:HELLO GATE", module_px=40))).convert("L")
    photo = Image.new("L", (5200, 4000), 180)  # 20.8 MP, like a phone's main camera
    photo.paste(code, (1500, 1000))
    path = tmp_path / "photo.jpg"
    photo.save(path, "JPEG", quality=85)
    del photo
    result = _child(path)
    assert result["codes"] == ["GID1:HELLO GATE"]
    assert isinstance(result["growth"], int) and result["growth"] < 64 * MIB
    assert load_image(path).width * load_image(path).height <= MAX_SCAN_PIXELS


def test_huge_png_bytes_refused_and_in_memory_arrays_reduced() -> None:
    with pytest.raises(ImageInvalid, match="scan cap"):
        scan(_palette_bomb(4000))
    big = Image.new("L", (4000, 3000), 255)  # already in memory: reduced, not refused
    assert load_image(big).width * load_image(big).height <= MAX_SCAN_PIXELS


def test_exif_orientation_still_applied() -> None:
    image = Image.new("L", (40, 20), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    assert load_image(out.getvalue()).size == (20, 40)


def test_pyzbar_gets_large_images_reduced_and_reports_full_scale_corners() -> None:
    from vcsdk.qr import available_backends
    from vcsdk.qr.scan import PYZBAR_MAX_PIXELS

    if "pyzbar" not in available_backends():
        pytest.skip("pyzbar (libzbar0) not installed")
    code = Image.open(io.BytesIO(render_png("GID1:HELLO GATE", module_px=12))).convert("L")
    photo = Image.new("L", (2400, 1600), 255)  # 3.8 MP: reduced for zbar
    assert photo.width * photo.height > PYZBAR_MAX_PIXELS
    photo.paste(code, (1500, 900))
    found = scan(photo, backend="pyzbar")
    assert [c.text for c in found] == ["GID1:HELLO GATE"]
    xs = [x for x, _ in found[0].polygon]
    assert min(xs) >= 1500 - 60 and max(xs) <= 1500 + code.width + 60  # corners at full scale
