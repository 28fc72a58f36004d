"""The official-ID claims (DESIGN section 3): a typed value with its CBOR and JSON forms.

``OfficialID.from_json`` is the issuer's door: it validates against the JSON Schema shipped in
``schemas/`` and lists every violation. ``OfficialID.from_cbor`` is the verifier's: typed checks
that accept exactly what the schema accepts (tests hold the two in agreement), cheap enough for
the verify path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from ..codec.cbor import MAP_TYPES
from ..errors import ClaimsInvalid, IssuanceClaimsInvalid
from .schema import official_id_violations

OFFICIAL_ID_CLAIM = -65537
"""CWT claim key (private use) holding the official-ID map."""

# field name -> (CBOR key, max length for text fields or None)
_TEXT_FIELDS: dict[str, tuple[int, int]] = {
    "name": (1, 50),
    "name_latin": (2, 100),
    "agency": (5, 100),
    "unit": (6, 100),
    "rank": (7, 50),
    "position": (8, 50),
    "employee_id": (9, 32),
}
KEYS: dict[str, int] = {
    "name": 1,
    "name_latin": 2,
    "birth_date": 3,
    "agency_code": 4,
    "agency": 5,
    "unit": 6,
    "rank": 7,
    "position": 8,
    "employee_id": 9,
    "photo_digest": 10,
}
"""JSON name -> integer key in the CBOR form."""
NAMES: dict[int, str] = {v: k for k, v in KEYS.items()}
OPTIONAL = frozenset({"name_latin", "unit", "position"})
AGENCY_CODE_RANGE = (1_000_000, 9_999_999)
PHOTO_DIGEST_BYTES = 16

_SPOOFING = (
    0x061C, 0x115F, 0x1160, 0x180E, *range(0x200B, 0x2010), *range(0x2028, 0x202F), *range(0x2060, 0x2065),
    *range(0x2066, 0x206A), 0x3164, 0xFEFF, 0xFFA0,
)  # fmt: skip
_CONTROL = frozenset(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), *_SPOOFING))
"""Refused in text claims: control characters, bidi controls, zero-width characters, line and
paragraph separators, the BOM and Hangul fillers (they change what a guard's screen shows)."""
_KEY_SET = frozenset(NAMES)
_INT_ONLY = frozenset({int})
# (name, CBOR key, max text length or 0 for non-text, required), in key order
_SPECS = tuple(
    (name, key, _TEXT_FIELDS[name][1] if name in _TEXT_FIELDS else 0, name not in OPTIONAL)
    for name, key in KEYS.items()
)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGEST = re.compile(r"[0-9a-f]{32}")
_REFUSED_JSON = _CONTROL | frozenset(map(chr, range(0xD800, 0xE000)))
"""What the JSON form refuses in text: as the CBOR form, plus lone surrogates (UTF-8 cannot carry them)."""
_JSON_KEYS = frozenset(KEYS)
_REQUIRED_JSON = frozenset(KEYS) - OPTIONAL


def typed_from_json(data: Mapping[str, Any]) -> OfficialID | None:
    """The JSON form checked by plain typed rules: the :class:`OfficialID`, or None if refused.

    Accepts exactly what the JSON Schema accepts (a property test holds them in agreement), at a
    fraction of the cost; text must already be NFC-normalised. None means: ask the schema
    (:func:`~vcsdk.profiles.schema.official_id_violations`) for the detailed violations. A JSON
    integer written as an integral float (``1741000.0``, an integer to JSON Schema) becomes an int.
    """
    if not isinstance(data, dict) or not _JSON_KEYS.issuperset(data) or not _REQUIRED_JSON.issubset(data):
        return None
    for name, (_key, max_length) in _TEXT_FIELDS.items():
        if name not in data:  # optional (the required ones are present)
            continue
        item = data[name]
        if not (isinstance(item, str) and 0 < len(item) <= max_length and _REFUSED_JSON.isdisjoint(item)):
            return None
    birth = data["birth_date"]
    if not isinstance(birth, str) or not _DATE.fullmatch(birth):
        return None
    try:
        birth_date = date.fromisoformat(birth)
    except ValueError:
        return None
    code = data["agency_code"]
    if isinstance(code, bool) or not (isinstance(code, int) or (isinstance(code, float) and code.is_integer())):
        return None
    if not AGENCY_CODE_RANGE[0] <= code <= AGENCY_CODE_RANGE[1]:
        return None
    digest = data["photo_digest"]
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        return None
    return OfficialID(
        name=data["name"],
        birth_date=birth_date,
        agency_code=int(code),
        agency=data["agency"],
        rank=data["rank"],
        employee_id=data["employee_id"],
        photo_digest=bytes.fromhex(digest),
        name_latin=data.get("name_latin"),
        unit=data.get("unit"),
        position=data.get("position"),
    )


@dataclass(frozen=True, slots=True)
class OfficialID:
    """The holder's official-ID data. Optional fields are None when absent."""

    name: str
    birth_date: date
    agency_code: int
    agency: str
    rank: str
    employee_id: str
    photo_digest: bytes
    name_latin: str | None = None
    unit: str | None = None
    position: str | None = None

    # ----------------------------------------------------------------- JSON form

    def to_json(self) -> dict[str, Any]:
        """The JSON form (DESIGN section 3 names; date as YYYY-MM-DD, digest as hex)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, bytes):
                value = value.hex()
            out[f.name] = value
        return {k: out[k] for k in KEYS if k in out}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OfficialID:
        """Validate the JSON form (text NFC-normalised first): typed checks that accept exactly
        what the JSON Schema accepts; the schema itself runs only to list a refusal's violations.

        Raises :class:`IssuanceClaimsInvalid` whose ``details`` lists every violation.
        """
        if not isinstance(data, Mapping):
            raise IssuanceClaimsInvalid("claims must be a JSON object")
        normalised: dict[str, Any] = {
            k: unicodedata.normalize("NFC", v) if isinstance(v, str) and k in _TEXT_FIELDS else v
            for k, v in data.items()
        }
        typed = typed_from_json(normalised)
        if typed is not None:
            return typed
        # the schema names every violation (slow, only for claims that are refused anyway)
        violations = official_id_violations(normalised) or ["(root): refused by the typed claim checks"]
        raise IssuanceClaimsInvalid(
            f"{len(violations)} claim violation(s): " + "; ".join(violations),
            details=tuple(violations),
        )

    # ----------------------------------------------------------------- CBOR form

    def to_cbor(self) -> dict[int, Any]:
        """The integer-keyed CBOR map (encode it with :func:`vcsdk.codec.cbor.dumps`)."""
        out: dict[int, Any] = {}
        for name, key in KEYS.items():
            value = getattr(self, name)
            if value is None:
                continue
            out[key] = value  # birth_date: cbor.dumps writes dates as tag 100
        return out

    @classmethod
    def from_cbor(cls, value: Any) -> OfficialID:
        """Typed checks of the CBOR map; raise :class:`ClaimsInvalid` on the first problem.

        Accepts exactly what the JSON Schema accepts, plus: text must already be NFC.
        """
        if not isinstance(value, MAP_TYPES):
            raise ClaimsInvalid("official-ID claims must be a map")
        if not _INT_ONLY.issuperset(map(type, value)):  # int_keyed(), inlined for the verify path
            raise ClaimsInvalid("official-ID claim keys must be integers (true or 1.0 is not 1)")
        if not _KEY_SET.issuperset(value):
            unknown = [k for k in value if k not in NAMES]
            raise ClaimsInvalid(f"unknown official-ID claim key(s) {unknown!r}")
        got: dict[str, Any] = {}
        for name, key, max_length, required in _SPECS:  # on the verify path: kept tight
            if key not in value:
                if required:
                    raise ClaimsInvalid(f"official-ID claim {name} is missing")
                continue
            item = value[key]
            if max_length and not (
                type(item) is str
                and 0 < len(item) <= max_length
                and _CONTROL.isdisjoint(item)
                and (item.isascii() or unicodedata.is_normalized("NFC", item))
            ):
                raise ClaimsInvalid(
                    f"official-ID claim {name} must be NFC text of 1-{max_length} characters without control, "
                    "bidi, zero-width or filler characters"
                )
            got[name] = item
        birth = got["birth_date"]
        if type(birth) is not date:
            raise ClaimsInvalid("official-ID claim birth_date must be a tag-100 date")
        code = got["agency_code"]
        if type(code) is not int or not AGENCY_CODE_RANGE[0] <= code <= AGENCY_CODE_RANGE[1]:
            raise ClaimsInvalid("official-ID claim agency_code must be a 7-digit integer")
        digest = got["photo_digest"]
        if type(digest) is not bytes or len(digest) != PHOTO_DIGEST_BYTES:
            raise ClaimsInvalid(f"official-ID claim photo_digest must be {PHOTO_DIGEST_BYTES} bytes")
        return cls(
            name=got["name"],
            birth_date=birth,
            agency_code=code,
            agency=got["agency"],
            rank=got["rank"],
            employee_id=got["employee_id"],
            photo_digest=digest,
            name_latin=got.get("name_latin"),
            unit=got.get("unit"),
            position=got.get("position"),
        )
