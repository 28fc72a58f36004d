"""The JSON API: credentials (the holder's and the operator's lifecycle actions)."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...errors import AccessDenied, RecordNotFound, RegistryTransitionRefused, UsageError
from .. import operations
from ..http import check_csrf, require, service_of
from .applications import application_json
from .common import json_body

# ------------------------------------------------------------------ credentials


def credential_json(record: dict[str, Any]) -> dict[str, Any]:
    """A credential record without its QR text."""
    return {
        k: record[k] for k in ("cti", "application_id", "state", "status_uri", "status_idx", "issued_at", "expires_at")
    }


async def credential_get(request: Request) -> Response:
    """A credential record (its holder and staff)."""
    account = require(request)
    service = service_of(request)
    record = await run_in_threadpool(service.wallet.owned_credential, account, request.path_params["cti"])
    return JSONResponse(credential_json(record))


async def credential_report_lost(request: Request) -> Response:
    """The holder reports the phone lost: suspended at once and republished."""
    account = require(request)
    await check_csrf(request)
    service = service_of(request)
    cti = request.path_params["cti"]

    def run() -> str:
        service.wallet.owned_credential(account, cti)
        application = service.registry.show(service.registry.credential(cti)["application_id"])
        if application["applicant"] != account.actor:
            raise AccessDenied("only the holder reports their phone lost; operators suspend")
        current = service.registry.credential(cti)["state"]
        if current == "suspended":  # never turn the office's suspension into the holder's own
            raise RegistryTransitionRefused("the ID is suspended already")
        state = service.registry.report_lost(cti, actor=account.actor)
        service.wallet.record_suspension(cti, "holder")
        service.publisher.publish()
        return state

    return JSONResponse({"cti": cti, "state": await run_in_threadpool(run)})


async def credential_change(request: Request) -> Response:
    """The holder applies for changed claims (promotion, transfer): a change application that goes
    through review like the first one; its issuance supersedes the credential."""
    account = require(request)
    await check_csrf(request)
    data = await json_body(request)
    changes = data.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise UsageError('give the changed claims: {"changes": {"rank": "..."}}')
    service = service_of(request)
    cti = request.path_params["cti"]

    def run() -> dict[str, Any]:
        service.wallet.owned_credential(account, cti)
        record = service.registry.credential(cti)
        if service.registry.show(record["application_id"])["applicant"] != account.actor:
            raise RecordNotFound("no such credential")
        if "agency_code" in changes or "agency" in changes:  # a transfer: to an agency offered now
            service.agencies.check_claims({**json.loads(record["claims"]), **changes})
        application_id = service.registry.apply_change(cti, applicant=account.actor, changes=changes)
        return application_json(service.registry.show(application_id))

    return JSONResponse(await run_in_threadpool(run), status_code=201)


def _operate(action: str) -> Any:
    async def operate(request: Request) -> Response:
        operator = require(request, "operator")
        await check_csrf(request)
        data = await json_body(request)
        service = service_of(request)
        cti = request.path_params["cti"]

        def run() -> dict[str, Any]:
            changes = data.get("changes") or {}
            if not isinstance(changes, dict):
                raise UsageError('changes must be an object, e.g. {"changes": {"rank": "..."}}')
            reason = operations.clean_reason(data.get("reason"))
            return operations.operate(service, operator.actor, cti, action, reason=reason, changes=changes)

        return JSONResponse(await run_in_threadpool(run))

    operate.__name__ = f"credential_{action}"
    operate.__doc__ = {
        "suspend": "Suspend (operators).",
        "reinstate": "Reinstate a suspended credential (operators).",
        "revoke": "Revoke for good (operators).",
        "renew": "Promotion or transfer: re-issue with changed claims (operators).",
    }[action]
    return operate
