"""Find and decode QR codes in images (an adapter: pixels in, QR texts out).

Two backends: ``zxing-cpp`` (optional extra ``vcsdk[zxing]``) and ``pyzbar`` (needs the system
library ``libzbar0``). ``backend="auto"`` takes zxing-cpp when installed: in the degraded-image
benchmark it decodes more of the harsh cases and is faster per frame (README, "QR images").
pyzbar is given the inverted image too, since zbar reads only dark-on-light codes.

Images come as a path, encoded bytes (PNG, JPEG, ...), a Pillow image or a numpy array.
A QR needs a few megapixels at most, so pixels are capped far below Pillow's own guard
(:data:`MAX_SCAN_PIXELS`, 8 MiP, e.g. a 4K UHD frame), checked from the header *before*
anything is decoded: a larger JPEG is decoded at 1/2, 1/4 or 1/8 scale (the JPEG decoder's own
DCT scaling, so the full-size pixels never exist); any other larger file is refused; a larger
in-memory image is reduced. Conversion to grayscale keeps at most a few bytes per pixel, so no
image costs more than about 64 MiB. Any unreadable image is one ``IMAGE_INVALID`` error; no code
found is ``QR_NOT_FOUND``.
"""

from __future__ import annotations

import importlib.util
import io
import os
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags, Image, ImageOps

from ..errors import ImageInvalid, QRNotFound, UsageError

BACKENDS = ("zxing", "pyzbar")
MAX_IMAGE_SIDE = 16_384
"""Widest or tallest image scanned (pixels). zxing-cpp refuses sides over 65,535 with a bare
``ValueError``, and a GIF frame placed at a far offset makes a 4 x 65,538 image out of 53 bytes
(a fuzz finding): such an image is ``IMAGE_INVALID``."""

MAX_SCAN_PIXELS = 8 * 1024 * 1024
"""Pixels decoded per image at most: 8 MiP (3840x2160 fits). A file over it is downscaled while
decoding (JPEG) or refused (other formats) before its pixels are allocated."""

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class ScannedCode:
    """One QR code found in an image: its text and its corner points (pixels)."""

    text: str
    polygon: tuple[tuple[int, int], ...]
    backend: str


def available_backends() -> list[str]:
    """The backends importable here, preferred first."""
    found = []
    if importlib.util.find_spec("zxingcpp") is not None:
        found.append("zxing")
    if importlib.util.find_spec("pyzbar") is not None:
        try:
            from pyzbar import pyzbar  # noqa: F401  (loads libzbar)

            found.append("pyzbar")
        except (ImportError, OSError):
            pass
    return found


MAX_DECODED_BYTES = 24 * 1024 * 1024
"""Bytes of decoded pixels per file at most: a 4-band (RGBA, CMYK) file gets 6 MiP."""


def _fit(image: Image.Image, cap: int) -> Image.Image:
    """Check the header's size against ``cap`` before decoding; decode a JPEG at reduced scale."""
    width, height = image.size
    if max(width, height) > MAX_IMAGE_SIDE:
        raise ImageInvalid(f"image of {width}x{height} pixels: a side over {MAX_IMAGE_SIDE}")
    if image.format != "JPEG":
        cap = min(cap, MAX_DECODED_BYTES // max(1, len(image.getbands())))
    if width <= 0 or height <= 0:
        raise ImageInvalid("image has no pixels")
    if width * height <= cap:
        return image
    if image.format == "JPEG":
        factor = 2
        while factor < 8 and (width // factor) * (height // factor) > cap:
            factor *= 2
        image.draft("L", (width // factor, height // factor))  # DCT scaling: never decoded at full size
        if image.size[0] * image.size[1] <= cap:
            return image
    raise ImageInvalid(
        f"image of {width}x{height} pixels refused: over the scan cap of {cap:,} pixels (a QR needs a few megapixels)"
    )


def _grayscale(image: Image.Image) -> Image.Image:
    """Grayscale with transparency as white paper, never through a 4-byte-per-pixel copy."""
    if image.mode == "L":
        return image
    if image.mode == "P" and "transparency" in image.info:
        return _palette_on_paper(image)
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = image.getchannel("A")
        gray = image.convert("L")
        del image
        return Image.composite(gray, Image.new("L", gray.size, 255), alpha)  # transparent = paper
    return image.convert("L")


def _palette_on_paper(image: Image.Image) -> Image.Image:
    """A palette image with transparency: blend each palette entry onto white, then index."""
    palette = image.getpalette("RGB") or []
    transparency = image.info["transparency"]
    entries = len(palette) // 3
    alphas = [255] * entries
    if isinstance(transparency, int) and transparency < entries:
        alphas[transparency] = 0
    elif isinstance(transparency, (bytes, bytearray)):
        for index, value in enumerate(transparency[:entries]):
            alphas[index] = value
    gray = []
    for index in range(entries):
        r, g, b = palette[3 * index : 3 * index + 3]
        luminance = (r * 299 + g * 587 + b * 114) // 1000
        gray.extend([(luminance * alphas[index] + 255 * (255 - alphas[index])) // 255] * 3)
    flat = image.copy()
    flat.info.pop("transparency", None)
    flat.putpalette(gray, "RGB")
    return flat.convert("L")


def load_image(source: Any, *, max_pixels: int = MAX_SCAN_PIXELS) -> Image.Image:
    """A grayscale Pillow image from a path, bytes, a Pillow image or a numpy array.

    Files and bytes over ``max_pixels`` are decoded at reduced scale (JPEG) or refused
    (``IMAGE_INVALID``) before their pixels are allocated; in-memory images are reduced.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if isinstance(source, Image.Image):
                image = source
            elif isinstance(source, (bytes, bytearray, memoryview)):
                image = _fit(Image.open(io.BytesIO(bytes(source))), max_pixels)
            elif isinstance(source, (str, os.PathLike)):
                image = _fit(Image.open(source), max_pixels)
            elif hasattr(source, "__array_interface__"):
                image = Image.fromarray(source)
            else:
                raise UsageError(f"cannot read an image from {type(source).__name__}")
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1) if image.format else 1
            image.load()
            if max(image.size) > MAX_IMAGE_SIDE:
                raise ImageInvalid(f"image of {image.width}x{image.height} pixels: a side over {MAX_IMAGE_SIDE}")
            if image.width * image.height > max_pixels:  # an in-memory image: reduce, never refuse
                factor = 2
                while (image.width // factor) * (image.height // factor) > max_pixels:
                    factor += 1
                image = image.reduce(factor)
            gray = _grayscale(image)
            del image
            transpose = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
            return gray.transpose(transpose) if transpose is not None else gray
    except UsageError:
        raise
    except ImageInvalid:
        raise
    except FileNotFoundError:
        raise ImageInvalid(f"no such image file: {source}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageInvalid(f"image refused by the decompression-bomb guard ({exc})") from None
    except (OSError, ValueError, SyntaxError, TypeError, EOFError) as exc:
        raise ImageInvalid(f"unreadable image ({exc})") from None


def _zxing(image: Image.Image) -> list[ScannedCode]:
    import zxingcpp

    codes = []
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for result in zxingcpp.read_barcodes(image, formats=formats, try_invert=True):
        position = result.position
        corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
        codes.append(ScannedCode(result.text, tuple((p.x, p.y) for p in corners), "zxing"))
    return codes


PYZBAR_MAX_PIXELS = 1024 * 1024
"""zbar is 4x slower than zxing-cpp per pixel and runs twice (plain and inverted): larger images
are reduced to this size first, so that a scan stays well under a second."""


def _pyzbar(image: Image.Image) -> list[ScannedCode]:
    from pyzbar import pyzbar

    factor = 1
    while (image.width // factor) * (image.height // factor) > PYZBAR_MAX_PIXELS:
        factor += 1
    if factor > 1:
        image = image.reduce(factor)
        codes = _pyzbar(image)
        return [ScannedCode(c.text, tuple((x * factor, y * factor) for x, y in c.polygon), c.backend) for c in codes]

    for candidate in (image, ImageOps.invert(image)):  # zbar reads dark-on-light codes only
        found = pyzbar.decode(candidate, symbols=[pyzbar.ZBarSymbol.QRCODE])
        if found:
            return [
                ScannedCode(item.data.decode("latin-1"), tuple((p.x, p.y) for p in item.polygon), "pyzbar")
                for item in found
            ]
    return []


def decode(image: Image.Image, backend: str) -> list[ScannedCode]:
    """Decode an already loaded grayscale image with one backend (``zxing`` or ``pyzbar``); [] if none."""
    return _zxing(image) if backend == "zxing" else _pyzbar(image)


def scan(source: Any, *, backend: str = "auto") -> list[ScannedCode]:
    """Every QR code in the image; raises ``QR_NOT_FOUND`` when there is none."""
    available = available_backends()
    if backend == "auto":
        if not available:
            raise UsageError("no QR scanning backend: install zxing-cpp, or pyzbar with libzbar0")
        backend = available[0]
    elif backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}: use auto, zxing or pyzbar")
    elif backend not in available:
        raise UsageError(f"backend {backend} is not installed here")
    image = load_image(source)
    codes = decode(image, backend)
    if not codes:
        raise QRNotFound(f"no QR code found in the image ({image.width}x{image.height}, {backend})")
    return codes
