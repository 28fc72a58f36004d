"""Render QR texts as PNG or SVG with ``qrcode`` (an adapter: image bytes out)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode import util

from ..errors import UsageError
from .capacity import ECC_LEVELS, plan

QUIET_ZONE = 4  # modules, as ISO/IEC 18004 requires
MM_PER_INCH = 25.4


def _code(text: str, ecc: str, border: int) -> qrcode.QRCode:
    if plan(text)[ecc] is None:
        raise UsageError(f"{len(text)} characters do not fit a QR code at ECC {ecc}")
    if border < QUIET_ZONE:
        raise UsageError(f"the quiet zone must be at least {QUIET_ZONE} modules")
    code = qrcode.QRCode(error_correction=ECC_LEVELS[ecc], border=border)
    code.add_data(util.QRData(text, mode=util.MODE_ALPHA_NUM))
    code.make(fit=True)
    return code


def _module_px(code: qrcode.QRCode, module_px: int | None, mm: float | None, dpi: int) -> int:
    if mm is None:
        return module_px or 8
    modules = int(code.modules_count) + 2 * int(code.border)
    return max(1, round(mm / MM_PER_INCH * dpi / modules))


def render_png(
    text: str,
    *,
    ecc: str = "Q",
    module_px: int | None = None,
    mm: float | None = None,
    dpi: int = 300,
    border: int = QUIET_ZONE,
) -> bytes:
    """A PNG of ``text``: ``module_px`` pixels per module, or a side of ``mm`` at ``dpi``.

    For phone screens 8 px per module is plenty; for print, DCC practice is 35-60 mm.
    """
    code = _code(text, ecc, border)
    code.box_size = _module_px(code, module_px, mm, dpi)
    image = code.make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def render_svg(text: str, *, ecc: str = "Q", mm: float = 40.0, border: int = QUIET_ZONE) -> bytes:
    """An SVG of ``text``, ``mm`` millimetres wide (vector: prints sharp at any size)."""
    code = _code(text, ecc, border)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(1, round(mm * 10 / modules))  # qrcode's SVG unit is 0.1 mm per box unit
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
