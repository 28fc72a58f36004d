"""The JSON Schemas shipped with the SDK and validation against them.

The files live in ``schemas/`` at the top of the source tree; ``vcsdk/schemas`` is a link to it,
so they are package data of ``vcsdk`` both in a checkout and inside the wheel.
"""

from __future__ import annotations

import json
import re
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


def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A schema ``pattern`` with ECMA-262 anchoring: a final ``$`` matches only at the very end.

    Python's ``$`` also matches before a trailing newline, so ``re.search("^[^\\n]*$", "a\\n")``
    succeeds where JSON Schema (ECMA-262 regular expressions) fails.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


@cache
def _official_id_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator, ValidationError, validators  # on first use: verify never needs it

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not ecma_pattern(patrn).search(instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    schema = load_schema("official-id.schema.json")
    Draft202012Validator.check_schema(schema)
    strict = validators.extend(Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]
    validator: Draft202012Validator = strict(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return validator


def official_id_violations(data: Any) -> list[str]:
    """Every schema violation of the official-ID JSON form, as ``path: message`` lines."""
    errors = sorted(_official_id_validator().iter_errors(data), key=lambda e: list(map(str, e.path)))
    return [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors]
