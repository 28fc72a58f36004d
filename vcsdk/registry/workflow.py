"""The application workflow and its checks (pure: no database, no clock).

States: draft -> submitted -> under_review -> (more_documents_requested <-> resubmitted) ->
approved | rejected; approved -> issued. Credentials: issued <-> suspended, -> revoked (final),
-> needs_renewal, -> superseded (re-issued), -> expired.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..clock import format_time
from ..errors import RegistryTransitionRefused

APPLICATION_TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {"submit": "submitted"},
    "submitted": {"review": "under_review"},
    "under_review": {"request_documents": "more_documents_requested", "approve": "approved", "reject": "rejected"},
    "more_documents_requested": {"submit": "resubmitted"},
    "resubmitted": {"review": "under_review"},
    "approved": {"issue": "issued"},
    "issued": {},
    "rejected": {},
}

DOCUMENT_KINDS = ("identity_document", "photo", "position_certificate", "recommendation", "fee_payment")
IDENTITY_TYPES = ("resident_card", "passport", "driver_licence")
PAYMENT_METHODS = ("card", "transfer")
PHOTO_ASPECT = 3.5 / 4.5
PHOTO_ASPECT_TOLERANCE = 0.03
PHOTO_MIN_PIXELS = (350, 450)
PHOTO_MAX_AGE_DAYS = 183
REVIEW_SLA_DAYS = (3, 5)
DEFAULT_FEE_KRW = 10_000


def spoken(name: str) -> str:
    """An action or state as people write it (``request documents``), never an identifier."""
    return name.replace("_", " ")


def next_state(state: str, action: str) -> str:
    """The state after ``action``, or :class:`TransitionRefused`."""
    target = APPLICATION_TRANSITIONS.get(state, {}).get(action)
    if target is None:
        allowed = ", ".join(spoken(a) for a in APPLICATION_TRANSITIONS.get(state, {})) or "nothing"
        raise RegistryTransitionRefused(
            f"cannot {spoken(action)} an application in state {spoken(state)} (allowed: {allowed})"
        )
    return target


@dataclass(frozen=True, slots=True)
class Document:
    """A document record: its kind, metadata and the SHA-256 of the file (kept by the integrator)."""

    kind: str
    meta: Mapping[str, Any]
    sha256: str


def photo_problems(image_bytes: bytes) -> list[str]:
    """Check an ID photo's pixels: aspect 3.5:4.5 within 3 %, at least 350 x 450 pixels."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return [f"PHOTO_UNREADABLE: {exc}"]
    problems = []
    if abs(width / height - PHOTO_ASPECT) > PHOTO_ASPECT * PHOTO_ASPECT_TOLERANCE:
        problems.append(f"PHOTO_ASPECT: {width}x{height} is not 3.5:4.5")
    if width < PHOTO_MIN_PIXELS[0] or height < PHOTO_MIN_PIXELS[1]:
        problems.append(f"PHOTO_RESOLUTION: {width}x{height} is below {PHOTO_MIN_PIXELS[0]}x{PHOTO_MIN_PIXELS[1]}")
    return problems


def completeness(documents: Iterable[Document], *, today: date, fee: int) -> list[str]:
    """Every missing or invalid item, as ``CODE: explanation`` lines (empty: complete)."""
    by_kind: dict[str, Document] = {}
    for document in documents:
        by_kind[document.kind] = document  # the newest of each kind counts
    problems = [f"DOCUMENT_MISSING: {kind}" for kind in DOCUMENT_KINDS if kind not in by_kind]
    identity = by_kind.get("identity_document")
    if identity is not None:
        meta = identity.meta
        if meta.get("type") not in IDENTITY_TYPES:
            problems.append(f"IDENTITY_TYPE: must be one of {', '.join(IDENTITY_TYPES)}")
        if not meta.get("number"):
            problems.append("IDENTITY_NUMBER: missing")
        if _date(meta.get("expiry")) is None or _date(meta.get("expiry")) <= today:  # type: ignore[operator]
            problems.append("IDENTITY_EXPIRED: the identity document must not be expired")
    photo = by_kind.get("photo")
    if photo is not None:
        captured = _date(photo.meta.get("captured"))
        if captured is None or (today - captured).days > PHOTO_MAX_AGE_DAYS or captured > today:
            problems.append("PHOTO_TOO_OLD: the photo must be taken within 6 months")
        problems.extend(photo.meta.get("problems", []))
    recommendation = by_kind.get("recommendation")
    if recommendation is not None and not recommendation.meta.get("signed_by"):
        problems.append("RECOMMENDATION_UNSIGNED: a superior must sign or stamp it")
    payment = by_kind.get("fee_payment")
    if payment is not None:
        meta = payment.meta
        if meta.get("amount") != fee:
            problems.append(f"FEE_AMOUNT: {meta.get('amount')!r} KRW paid, {fee} KRW due")
        if fee and meta.get("method") not in PAYMENT_METHODS:
            problems.append("FEE_METHOD: card or transfer")
        if fee and not meta.get("receipt"):
            problems.append("FEE_RECEIPT: missing receipt id")
    return problems


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def sla_report(submitted_at: int | None, decided_at: int | None, now: int) -> dict[str, Any]:
    """Review time against the 3-5 day target."""
    if submitted_at is None:
        return {"state": "not submitted"}
    end = decided_at or now
    days = (end - submitted_at) / 86400
    return {
        "submitted": format_time(submitted_at),
        "days": round(days, 2),
        "target_days": list(REVIEW_SLA_DAYS),
        "late": days > REVIEW_SLA_DAYS[1],
    }
