"""Checks the CLI makes on registry input before the registry sees it: document metadata against
``schemas/document-meta.schema.json``, and photos that are really images."""

from __future__ import annotations

import io
from typing import Any

from vcsdk.errors import UsageError

DOCUMENT_KINDS = ("identity_document", "photo", "position_certificate", "recommendation", "fee_payment")


def check_meta(kind: str, meta: Any) -> None:
    """Refuse metadata that does not match its kind's schema, naming every problem."""
    from jsonschema import Draft202012Validator

    from vcsdk.profiles.schema import load_schema

    schema = load_schema("document-meta.schema.json")
    if kind not in schema["$defs"]:
        raise UsageError(f"unknown document kind {kind!r} (known: {', '.join(DOCUMENT_KINDS)})")
    validator = Draft202012Validator(
        {**schema["$defs"][kind], "$defs": schema["$defs"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    problems = sorted(
        f"{'/'.join(map(str, error.path)) or '(metadata)'}: {error.message}" for error in validator.iter_errors(meta)
    )
    if problems:
        raise UsageError(f"{kind} metadata refused: " + "; ".join(problems))


def check_image(data: bytes, name: str) -> None:
    """Refuse a file that is not a readable image (before it is attached as a photo)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UsageError(f"{name} is not an image (JPEG or PNG expected): {exc}") from None
