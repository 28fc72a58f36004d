"""The JSON API: accounts and sessions."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...errors import UsageError
from ..http import check_csrf, csrf_token, current_account, end_session, require, service_of, start_session
from .common import STAFF, _text, account_json, json_body

# ------------------------------------------------------------------ accounts and sessions


async def session_get(request: Request) -> Response:
    """The signed-in account (or null) and the CSRF token for the next state-changing request."""
    account = current_account(request)
    return JSONResponse(
        {"account": None if account is None else account_json(account), "csrf_token": csrf_token(request)}
    )


async def session_create(request: Request) -> Response:
    """Sign in: ``{"username", "password"}`` -> session cookie and a new CSRF token."""
    await check_csrf(request)
    data = await json_body(request)
    service = service_of(request)
    client = request.client.host if request.client else "unknown"
    account = await run_in_threadpool(
        service.accounts.authenticate,
        _text(data, "username", limit=200),
        _text(data, "password", limit=2000),
        client=client,
    )
    cookies = Response()
    token = await start_session(request, cookies, account)
    response = JSONResponse({"account": account_json(account), "csrf_token": token})
    for value in cookies.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


async def session_delete(request: Request) -> Response:
    """Sign out."""
    await check_csrf(request)
    response = Response(status_code=204)
    await end_session(request, response)
    return response


async def account_create(request: Request) -> Response:
    """Register an applicant account: ``{"username", "password"}``."""
    await check_csrf(request)
    data = await json_body(request)
    service = service_of(request)
    account = await run_in_threadpool(
        service.accounts.create,
        _text(data, "username", limit=200),
        _text(data, "password", limit=2000),
        "applicant",
        created_by="self",
    )
    return JSONResponse({"account": account_json(account)}, status_code=201)


async def staff_create(request: Request) -> Response:
    """An operator creates a reviewer (or another operator): ``{"username", "password", "role"}``."""
    operator = require(request, "operator")
    await check_csrf(request)
    data = await json_body(request)
    role = data.get("role", "reviewer")
    if role not in STAFF:
        raise UsageError("role must be reviewer or operator")
    service = service_of(request)
    account = await run_in_threadpool(
        service.accounts.create,
        _text(data, "username", limit=200),
        _text(data, "password", limit=2000),
        role,
        created_by=operator.actor,
    )
    return JSONResponse({"account": account_json(account)}, status_code=201)


async def staff_list(request: Request) -> Response:
    """Reviewer and operator accounts (operators only)."""
    require(request, "operator")
    service = service_of(request)
    accounts = await run_in_threadpool(service.accounts.list)
    return JSONResponse({"accounts": [account_json(a) for a in accounts if a.is_staff]})
