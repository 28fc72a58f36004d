"""Form checks of the web pages (pure: text in, values and errors out).

Errors are ``{field: (message key, parameters)}`` so that each page shows them in its language,
in the error summary at the top and next to the field. Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ...registry.workflow import PHOTO_MAX_AGE_DAYS

FieldError = tuple[str, dict[str, Any]]
EMAIL = re.compile(r"\A[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,}\Z")
LIMITS = {"name": 50, "name_latin": 100, "unit": 100, "rank": 50, "position": 50, "employee_id": 32, "contact": 256}
APPLICATION_FIELDS = (
    "name",
    "name_latin",
    "birth_date",
    "agency_code",
    "unit",
    "rank",
    "position",
    "employee_id",
    "contact",
)
REQUIRED = ("name", "birth_date", "rank", "employee_id", "contact")


@dataclass(frozen=True, slots=True)
class Checked:
    """The cleaned values (always every field, as text, for re-display) and the errors."""

    values: dict[str, str]
    errors: dict[str, FieldError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether there is no error."""
        return not self.errors


def _clean(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for name in names:
        value = form.get(name)
        values[name] = " ".join(value.split()) if isinstance(value, str) else ""
    return values


def parse_date(text: str) -> date | None:
    """A YYYY-MM-DD date (also accepts YYYY.MM.DD and YYYYMMDD), None if not a date."""
    text = text.strip().replace(".", "-").replace("/", "-")
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        return None
    year, month, day = (int(part) for part in text.split("-"))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def check_application(form: Mapping[str, Any], agencies: Mapping[int, str], today: date) -> Checked:
    """The application form: personal data, agency from the list, unit, rank, position, contact."""
    values = _clean(form, APPLICATION_FIELDS)
    errors: dict[str, FieldError] = {}
    for name in REQUIRED:
        if not values[name]:
            errors[name] = ("v.required", {"field": "field." + name})
    for name, limit in LIMITS.items():
        if name not in errors and len(values[name]) > limit:
            errors[name] = ("v.too_long", {"field": "field." + name, "n": limit})
    if "birth_date" not in errors:
        born = parse_date(values["birth_date"])
        if born is None:
            errors["birth_date"] = ("v.date", {"field": "field.birth_date"})
        elif born >= today:
            errors["birth_date"] = ("v.date_future", {"field": "field.birth_date"})
        else:
            values["birth_date"] = born.isoformat()
    if not values["agency_code"].isdigit() or int(values["agency_code"]) not in agencies:
        errors["agency_code"] = ("v.choose", {"field": "field.agency"})
    if "contact" not in errors and not EMAIL.match(values["contact"]):
        errors["contact"] = ("v.email", {})
    return Checked(values, errors)


def application_claims(values: Mapping[str, str], agencies: Mapping[int, str]) -> dict[str, Any]:
    """The official-ID claims (JSON form, without ``photo_digest``) of a checked form."""
    code = int(values["agency_code"])
    claims: dict[str, Any] = {
        "name": values["name"],
        "birth_date": values["birth_date"],
        "agency_code": code,
        "agency": agencies[code],
        "rank": values["rank"],
        "employee_id": values["employee_id"],
    }
    for optional in ("name_latin", "unit", "position"):
        if values[optional]:
            claims[optional] = values[optional]
    return claims


def check_signup(form: Mapping[str, Any]) -> Checked:
    """User name and a password typed twice (the passwords are never kept for re-display)."""
    username = form.get("username")
    password = form.get("password")
    password2 = form.get("password2")
    values = {"username": username.strip() if isinstance(username, str) else ""}
    errors: dict[str, FieldError] = {}
    if not values["username"]:
        errors["username"] = ("v.required", {"field": "field.username"})
    elif len(values["username"]) > 128 or any(ch.isspace() for ch in values["username"]):
        errors["username"] = ("v.username_bad", {})
    if not isinstance(password, str) or len(password) < 10:
        errors["password"] = ("v.password_short", {})
    elif password != password2:
        errors["password2"] = ("v.password_mismatch", {})
    return Checked(values, errors)


def oldest_photo_date(today: date) -> date:
    """The oldest capture date a photo may have today."""
    return today - timedelta(days=PHOTO_MAX_AGE_DAYS)


def check_document_meta(kind: str, form: Mapping[str, Any], today: date) -> tuple[Checked, dict[str, Any]]:
    """The typed fields that go with one document, and the metadata to record."""
    errors: dict[str, FieldError] = {}
    meta: dict[str, Any] = {}
    if kind == "identity_document":
        values = _clean(form, ("id_type", "id_number", "id_expiry"))
        if values["id_type"] not in ("resident_card", "driver_licence", "passport"):
            errors["id_type"] = ("v.choose", {"field": "field.id_type"})
        if not values["id_number"]:
            errors["id_number"] = ("v.required", {"field": "field.id_number"})
        elif len(values["id_number"]) > 32:
            errors["id_number"] = ("v.too_long", {"field": "field.id_number", "n": 32})
        expiry = parse_date(values["id_expiry"])
        if expiry is None:
            errors["id_expiry"] = ("v.date", {"field": "field.id_expiry"})
        elif expiry <= today:
            errors["id_expiry"] = ("v.expired_doc", {})
        else:
            values["id_expiry"] = expiry.isoformat()
        meta = {"type": values["id_type"], "number": values["id_number"], "expiry": values["id_expiry"]}
    elif kind == "photo":
        values = _clean(form, ("captured",))
        captured = parse_date(values["captured"])
        if captured is None or captured > today:
            errors["captured"] = ("v.date", {"field": "field.captured"})
        elif captured < oldest_photo_date(today):
            errors["captured"] = ("v.photo_old", {"since": oldest_photo_date(today).isoformat()})
        else:
            values["captured"] = captured.isoformat()
        meta = {"captured": values["captured"]}
    elif kind == "recommendation":
        values = _clean(form, ("signed_by",))
        if not values["signed_by"]:
            errors["signed_by"] = ("v.required", {"field": "field.signed_by"})
        elif len(values["signed_by"]) > 100:
            errors["signed_by"] = ("v.too_long", {"field": "field.signed_by", "n": 100})
        meta = {"signed_by": values["signed_by"]}
    else:
        values = {}
    return Checked(values, errors), meta


def check_fee(form: Mapping[str, Any], fee: int) -> tuple[Checked, dict[str, Any]]:
    """The fee payment record: method and receipt (nothing when the agency's fee is 0)."""
    values = _clean(form, ("method", "receipt"))
    errors: dict[str, FieldError] = {}
    if fee == 0:
        return Checked(values), {"amount": 0, "method": "none", "receipt": "no fee"}
    if values["method"] not in ("card", "transfer"):
        errors["method"] = ("v.method", {})
    if not values["receipt"]:
        errors["receipt"] = ("v.receipt", {})
    elif len(values["receipt"]) > 64:
        errors["receipt"] = ("v.too_long", {"field": "field.receipt", "n": 64})
    return Checked(values, errors), {"amount": fee, "method": values["method"], "receipt": values["receipt"]}


def check_decision(form: Mapping[str, Any]) -> Checked:
    """A reviewer's decision: approve, request documents (reason) or reject (reason)."""
    values = _clean(form, ("decision",))
    reason = form.get("reason")
    values["reason"] = reason.strip() if isinstance(reason, str) else ""
    errors: dict[str, FieldError] = {}
    if values["decision"] not in ("approve", "request_documents", "reject"):
        errors["decision"] = ("v.decision", {})
    elif values["decision"] != "approve" and not values["reason"]:
        errors["reason"] = ("v.reason", {})
    if len(values["reason"]) > 2000:
        errors["reason"] = ("v.too_long", {"field": "review.reason", "n": 2000})
    return Checked(values, errors)
