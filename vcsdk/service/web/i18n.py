"""The web pages' text: one catalogue per language (``locales/<lang>.json``), Korean first.

A catalogue maps a key to a string with ``{name}`` placeholders. The language comes from the
``lang`` query parameter (which also sets the ``lang`` cookie), then the cookie, then Korean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """The strings of one language (loaded once)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    text = resources.files(__package__).joinpath("locales", f"{lang}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"locales/{lang}.json must map keys to strings")
    return data


def choose(query: str | None, cookie: str | None) -> str:
    """The page language: query parameter, then cookie, then Korean."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Translator:
    """``t("key", name=value)`` in one language; a missing key shows itself (and a test catches it)."""

    lang: str

    def __call__(self, key: str, /, **values: object) -> str:
        text = catalogue(self.lang).get(key)
        if text is None:
            return key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether the catalogue has ``key``."""
        return key in catalogue(self.lang)
