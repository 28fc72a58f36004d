"""Find and decode QR codes in images (an adapter: pixels in, QR texts out).

Two backends: ``zxing-cpp`` (optional extra ``vcsdk[zxing]``) and ``pyzbar`` (needs the system
library ``libzbar0``). ``backend="auto"`` takes zxing-cpp when installed: in the degraded-image
benchmark it decodes more of the harsh cases and is faster per frame (README, "QR images").
pyzbar is given the inverted image too, since zbar reads only dark-on-light codes.

Images come as a path, encoded bytes (PNG, JPEG, ...), a Pillow image or a numpy array.
Pillow's decompression-bomb guard applies (``Image.MAX_IMAGE_PIXELS``, 89 M pixels by default),
and any unreadable image is one ``IMAGE_INVALID`` error; no code found is ``QR_NOT_FOUND``.
"""

from __future__ import annotations

import importlib.util
import io
import os
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

from ..errors import ImageInvalid, QRNotFound, UsageError

BACKENDS = ("zxing", "pyzbar")
MAX_IMAGE_SIDE = 16_384
"""Widest or tallest image scanned (pixels). zxing-cpp refuses sides over 65,535 with a bare
``ValueError``, and a GIF frame placed at a far offset makes a 4 x 65,538 image out of 53 bytes
(a fuzz finding): such an image is ``IMAGE_INVALID``."""


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


def load_image(source: Any) -> Image.Image:
    """A grayscale Pillow image from a path, bytes, a Pillow image or a numpy array."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if isinstance(source, Image.Image):
                image = source
            elif isinstance(source, (bytes, bytearray, memoryview)):
                image = Image.open(io.BytesIO(bytes(source)))
            elif isinstance(source, (str, os.PathLike)):
                image = Image.open(source)
            elif hasattr(source, "__array_interface__"):
                image = Image.fromarray(source)
            else:
                raise UsageError(f"cannot read an image from {type(source).__name__}")
            image.load()
            if max(image.size) > MAX_IMAGE_SIDE:
                raise ImageInvalid(f"image of {image.width}x{image.height} pixels: a side over {MAX_IMAGE_SIDE}")
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                background = Image.new("RGBA", image.size, "white")  # transparent = paper, not ink
                image = Image.alpha_composite(background, image.convert("RGBA"))
            return image.convert("L")
    except (UsageError, ImageInvalid):
        raise
    except FileNotFoundError:
        raise ImageInvalid(f"no such image file: {source}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageInvalid(f"image refused by the decompression-bomb guard ({exc})") from None
    except (OSError, ValueError, SyntaxError, TypeError) as exc:
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


def _pyzbar(image: Image.Image) -> list[ScannedCode]:
    from pyzbar import pyzbar

    for candidate in (image, ImageOps.invert(image)):  # zbar reads dark-on-light codes only
        found = pyzbar.decode(candidate, symbols=[pyzbar.ZBarSymbol.QRCODE])
        if found:
            return [
                ScannedCode(item.data.decode("latin-1"), tuple((p.x, p.y) for p in item.polygon), "pyzbar")
                for item in found
            ]
    return []


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
    codes = _zxing(image) if backend == "zxing" else _pyzbar(image)
    if not codes:
        raise QRNotFound(f"no QR code found in the image ({image.width}x{image.height}, {backend})")
    return codes
