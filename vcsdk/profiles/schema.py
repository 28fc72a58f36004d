"""The JSON Schemas shipped with the SDK and validation against them.

The files live in ``schemas/`` at the top of the source tree; ``vcsdk/schemas`` is a link to it,
so they are package data of ``vcsdk`` both in a checkout and inside the wheel.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


def schema_text(name: str) -> str:
    """The text of a shipped schema file, e.g. ``"error-codes.json"``."""
    return resources.files("vcsdk").joinpath("schemas", name).read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A shipped schema, parsed (cached)."""
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded


@cache
def _official_id_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # imported on first use: verification never needs it

    schema = load_schema("official-id.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def official_id_violations(data: Any) -> list[str]:
    """Every schema violation of the official-ID JSON form, as ``path: message`` lines."""
    errors = sorted(_official_id_validator().iter_errors(data), key=lambda e: list(map(str, e.path)))
    return [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors]
