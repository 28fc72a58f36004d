"""Operators' lifecycle actions on a credential, shared by the JSON API and the web pages:
suspend, reinstate, revoke, renew; each is audited under the operator's account with its reason
and followed at once by a new publication of the status lists, trust list and bundle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import UsageError
from ..registry import audit
from .core import Service

ACTIONS = ("suspend", "reinstate", "revoke", "renew")
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "suspend": ("issued", "needs_renewal"),
    "reinstate": ("suspended",),
    "revoke": ("issued", "needs_renewal", "suspended"),
    "renew": ("issued", "needs_renewal"),
}
"""The credential states each action starts from (the registry enforces them too)."""
MAX_REASON = 500
"""The longest reason an operator may give (characters, after whitespace is collapsed)."""


def clean_reason(reason: object) -> str | None:
    """An operator's reason as stored: text, whitespace collapsed, printable, at most
    :data:`MAX_REASON` characters (``USAGE_ERROR`` otherwise); None when none is given."""
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise UsageError("the reason must be text")
    cleaned = " ".join(reason.split())
    if len(cleaned) > MAX_REASON or not cleaned.isprintable():
        raise UsageError(f"the reason must be printable text of at most {MAX_REASON} characters")
    return cleaned


def operate(
    service: Service,
    actor: str,
    cti: str,
    action: str,
    *,
    reason: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one operator action and republish; returns ``{"cti", "state"}`` (and ``new_cti`` for
    a renewal, whose old credential is superseded)."""
    registry = service.registry
    reason = clean_reason(reason)
    if action == "renew":
        record = registry.renew(cti, actor=actor, changes=changes or {})
        if reason:
            with service.engine.begin() as conn:
                audit.append(
                    conn, service.clock(), actor, "renew_reason", record.cti, {"reason": reason, "replaces": cti}
                )
        result: dict[str, Any] = {"cti": cti, "state": "superseded", "new_cti": record.cti}
    elif action == "revoke":
        result = {"cti": cti, "state": registry.revoke(cti, actor=actor, reason=reason or "")}
    elif action == "suspend":
        result = {"cti": cti, "state": registry.suspend(cti, actor=actor, reason=reason)}
        service.wallet.record_suspension(cti, "operator")
    elif action == "reinstate":
        result = {"cti": cti, "state": registry.reinstate(cti, actor=actor, reason=reason)}
        service.wallet.record_suspension(cti, None)
    else:
        raise UsageError(f"unknown action {action[:20]!r}: one of {', '.join(ACTIONS)}")
    service.publisher.publish()
    return result
