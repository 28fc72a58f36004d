"""Checks on uploaded documents, before anything is stored (pure: bytes and dates in, a verdict out).

* size: 1 byte to the configured maximum;
* file name: a plain name (no folders, ``..``, control characters), at most 200 characters; it is
  only recorded, never used as a path;
* type: sniffed from the content (PDF, PNG, JPEG), must agree with the declared type, and be
  allowed for the document kind (a photo is PNG or JPEG);
* images: dimensions read from the header first and refused above :data:`MAX_IMAGE_PIXELS`
  (decompression bombs), then fully decoded;
* the ID photo: aspect 3.5:4.5 within 3 %, at least 350 x 450 pixels, declared capture date
  (``captured``, YYYY-MM-DD) within the last 6 months and not in the future.
"""

from __future__ import annotations

import io
import json
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import UploadRefused
from ..registry.workflow import (
    DOCUMENT_KINDS,
    PHOTO_ASPECT,
    PHOTO_ASPECT_TOLERANCE,
    PHOTO_MAX_AGE_DAYS,
    PHOTO_MIN_PIXELS,
)

MAX_IMAGE_PIXELS = 40_000_000
MAX_FILENAME_CHARS = 200
MAX_META_BYTES = 4096
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "photo": ("image/png", "image/jpeg"),
}
DEFAULT_ALLOWED = ("application/pdf", "image/png", "image/jpeg")


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """An upload that passed every check."""

    kind: str
    media_type: str
    filename: str
    size: int
    meta: dict[str, Any]


def sniff(content: bytes) -> str | None:
    """The media type the content's leading bytes show, None if not an accepted type."""
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    return None


def check_filename(name: str) -> str:
    """A safe file name to record, or ``UPLOAD_REFUSED``."""
    name = unicodedata.normalize("NFC", name or "")
    bad = (
        not name
        or len(name) > MAX_FILENAME_CHARS
        or name in (".", "..")
        or any(ch in name for ch in "/\\\x00")
        or ".." in name
        or name.startswith(".")
        or any(unicodedata.category(ch).startswith("C") for ch in name)
    )
    if bad:
        raise UploadRefused("the file name must be a plain name without folders, '..' or control characters")
    return name


def parse_meta(text: str | None) -> dict[str, Any]:
    """The document metadata: a flat JSON object of at most 4 KB."""
    if not text:
        return {}
    if len(text.encode("utf-8")) > MAX_META_BYTES:
        raise UploadRefused(f"document metadata is limited to {MAX_META_BYTES} bytes")
    try:
        meta = json.loads(text)
    except ValueError:
        raise UploadRefused("document metadata must be a JSON object") from None
    if not isinstance(meta, dict) or any(
        not isinstance(v, str | int | float | bool) or v is None for v in meta.values()
    ):
        raise UploadRefused("document metadata must be a flat JSON object of text, numbers and booleans")
    return meta


def _image_size(content: bytes) -> tuple[int, int]:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise UploadRefused(f"the image has {width}x{height} pixels: over the {MAX_IMAGE_PIXELS} limit")
                image.load()
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused("the image would decompress to too many pixels") from None
    except (OSError, ValueError, SyntaxError, MemoryError):
        raise UploadRefused("the image cannot be decoded") from None
    return width, height


def check_upload(
    kind: str,
    content: bytes,
    *,
    filename: str,
    declared_type: str | None,
    meta: dict[str, Any],
    max_bytes: int,
    today: date,
) -> CheckedUpload:
    """Every check above; ``UPLOAD_REFUSED`` with the first reason."""
    if kind not in DOCUMENT_KINDS:
        raise UploadRefused(f"document kind must be one of {', '.join(DOCUMENT_KINDS)}")
    name = check_filename(filename)
    if not content:
        raise UploadRefused("the file is empty")
    if len(content) > max_bytes:
        raise UploadRefused(f"the file is larger than {max_bytes} bytes")
    media_type = sniff(content)
    allowed = ALLOWED_TYPES.get(kind, DEFAULT_ALLOWED)
    if media_type is None or media_type not in allowed:
        raise UploadRefused(f"a {kind} must be one of: {', '.join(allowed)} (judged from the content)")
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream", media_type):
        raise UploadRefused(f"the file is declared as {declared} but its content is {media_type}")
    if media_type.startswith("image/"):
        width, height = _image_size(content)
        if kind == "photo":
            _check_photo(width, height, meta, today)
    return CheckedUpload(kind, media_type, name, len(content), meta)


def _check_photo(width: int, height: int, meta: dict[str, Any], today: date) -> None:
    if abs(width / height - PHOTO_ASPECT) > PHOTO_ASPECT * PHOTO_ASPECT_TOLERANCE:
        raise UploadRefused(f"the photo is {width}x{height} pixels: it must be 3.5:4.5 (e.g. 350x450)")
    if width < PHOTO_MIN_PIXELS[0] or height < PHOTO_MIN_PIXELS[1]:
        raise UploadRefused(f"the photo must be at least {PHOTO_MIN_PIXELS[0]}x{PHOTO_MIN_PIXELS[1]} pixels")
    try:
        captured = date.fromisoformat(str(meta.get("captured", "")))
    except ValueError:
        raise UploadRefused("give the photo's capture date as captured=YYYY-MM-DD") from None
    if captured > today or (today - captured).days > PHOTO_MAX_AGE_DAYS:
        raise UploadRefused("the photo must have been taken within the last 6 months")
