"""Checks the CLI makes on registry input before the registry sees it: document metadata against
``schemas/document-meta.schema.json``, photos that are really images, and CSV files for bulk import
(UTF-8, with or without a byte-order mark)."""

from __future__ import annotations

import csv
import io
from typing import Any

from vcsdk.errors import UsageError

DOCUMENT_KINDS = ("identity_document", "photo", "position_certificate", "recommendation", "fee_payment")
CSV_COLUMNS = (
    "name",
    "name_latin",
    "birth_date",
    "agency_code",
    "agency",
    "unit",
    "rank",
    "position",
    "employee_id",
    "contact",
    "applicant",
)


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


def read_csv_rows(data: bytes, name: str) -> list[dict[str, Any]]:
    """Rows of an import CSV: UTF-8 (a BOM is fine), a header row of known columns, agency_code an integer."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{name} is not UTF-8 (byte {exc.start}): save it as UTF-8, e.g. CP949 files are not read"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if not header or unknown:
        raise UsageError(f"{name}: unknown columns {unknown or '(no header)'}; known: {', '.join(CSV_COLUMNS)}")
    rows: list[dict[str, Any]] = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise UsageError(f"{name} line {number}: more fields than columns")
        cleaned: dict[str, Any] = {key: value.strip() for key, value in row.items() if value and value.strip()}
        if "agency_code" in cleaned:
            if not cleaned["agency_code"].isdigit():
                raise UsageError(f"{name} line {number}: agency_code {cleaned['agency_code']!r} is not a number")
            cleaned["agency_code"] = int(cleaned["agency_code"])
        rows.append(cleaned)
    return rows
