"""The JSON API's plumbing: reading a JSON body, the shared checks of who may see an
application, and the constants the resources share."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from ...errors import AccessDenied, RecordNotFound, UsageError
from ..accounts import Account
from ..core import Service

REVIEW_STATES = ("submitted", "resubmitted", "under_review")
STAFF = ("reviewer", "operator")
MAX_JSON_BYTES = 64 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body (``USAGE_ERROR`` if it is not one)."""
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise UsageError(f"a JSON body is limited to {MAX_JSON_BYTES} bytes")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise UsageError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise UsageError("the body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = True, limit: int = 2000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise UsageError(f"{name} must be text of at most {limit} characters" + (" (required)" if required else ""))
    return value


def account_json(account: Account) -> dict[str, str]:
    return {"id": account.id, "username": account.username, "role": account.role}


def _visible(service: Service, account: Account, application_id: str) -> dict[str, Any]:
    """The application if ``account`` owns it or is staff; else the same 404 as a missing one."""
    try:
        shown = service.registry.show(application_id)
    except RecordNotFound:
        raise RecordNotFound("no such application") from None
    if shown["applicant"] != account.actor and not account.is_staff:
        raise RecordNotFound("no such application")
    return shown


def _owned(service: Service, account: Account, application_id: str) -> dict[str, Any]:
    shown = _visible(service, account, application_id)
    if shown["applicant"] != account.actor:
        raise AccessDenied("only the applicant can do this")
    return shown
