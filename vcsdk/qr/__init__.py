"""QR codes: capacity planning (pure), rendering (``qrcode``) and scanning (``pyzbar`` or
``zxing-cpp``). Image work lives here, outside the core; the verifier never sees pixels."""

from .capacity import ECC_LEVELS, fits, plan, version_for
from .render import render_png, render_svg
from .scan import ScannedCode, available_backends, scan

__all__ = [
    "ECC_LEVELS",
    "ScannedCode",
    "available_backends",
    "fits",
    "plan",
    "render_png",
    "render_svg",
    "scan",
    "version_for",
]
