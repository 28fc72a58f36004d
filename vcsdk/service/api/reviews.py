"""The JSON API: the review queue and decisions."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..http import check_csrf, require, service_of
from .common import REVIEW_STATES, STAFF, _text, json_body

# ------------------------------------------------------------------ review


async def review_queue(request: Request) -> Response:
    """Applications waiting for review, oldest first; ``overdue`` past the target days."""
    account = require(request, *STAFF)
    service = service_of(request)
    limit_days = service.settings.review_overdue_days

    def run() -> list[dict[str, Any]]:
        now = service.clock()
        queue = []
        for state in REVIEW_STATES:
            for row in service.registry.applications(state):
                shown = service.registry.show(row["id"])
                submitted = shown["submitted_at"] or shown["created_at"]
                age_days = (now - submitted) / 86400
                queue.append(
                    {
                        "id": row["id"],
                        "state": row["state"],
                        "submitted_at": submitted,
                        "age_days": round(age_days, 2),
                        "overdue": age_days > limit_days,
                        "own": shown["applicant"] == account.actor,
                        "name": shown["claims"].get("name"),
                        "agency": shown["claims"].get("agency"),
                    }
                )
        return sorted(queue, key=lambda item: item["submitted_at"])

    return JSONResponse({"queue": await run_in_threadpool(run), "target_days": [3, limit_days]})


def _decide(action: str) -> Any:
    async def decide(request: Request) -> Response:
        reviewer = require(request, *STAFF)
        await check_csrf(request)
        data = await json_body(request)
        reason = _text(data, "reason", required=action != "approve")
        service = service_of(request)
        application_id = request.path_params["application_id"]

        def run() -> str:
            registry = service.registry
            if registry.show(application_id)["state"] in ("submitted", "resubmitted"):
                registry.review(application_id, reviewer=reviewer.actor)
            if action == "approve":
                return registry.approve(application_id, reviewer=reviewer.actor, reason=reason)
            if action == "reject":
                return registry.reject(application_id, reviewer=reviewer.actor, reason=reason)
            return registry.request_documents(application_id, reviewer=reviewer.actor, reason=reason)

        return JSONResponse({"id": application_id, "state": await run_in_threadpool(run)})

    decide.__name__ = f"review_{action}"
    decide.__doc__ = {
        "approve": "Approve (never one's own application).",
        "reject": "Reject with a reason.",
        "request_documents": "Ask the applicant for more documents (with a reason).",
    }[action]
    return decide
