"""Wallet-facing routes: OpenID4VCI metadata, offers by reference, token, nonce, credential, and
the refresh extension. No cookies and no CSRF here: the wallet authenticates with the
pre-authorized code, the transaction code, the access token and its device-key proofs."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .http import service_of
from .issuance import WalletError, authorization_server_metadata, issuer_metadata

MAX_BODY = 16 * 1024
NO_STORE = {"cache-control": "no-store"}


async def credential_issuer_metadata(request: Request) -> Response:
    """``/.well-known/openid-credential-issuer``."""
    return JSONResponse(issuer_metadata(service_of(request).settings.base_url))


async def oauth_metadata(request: Request) -> Response:
    """``/.well-known/oauth-authorization-server``."""
    return JSONResponse(authorization_server_metadata(service_of(request).settings.base_url))


async def offer_get(request: Request) -> Response:
    """A credential offer by reference (while it is open)."""
    service = service_of(request)
    document = await run_in_threadpool(service.wallet.offer_by_reference, request.path_params["offer_id"])
    return JSONResponse(document, headers=NO_STORE)


async def token(request: Request) -> Response:
    """``POST /token`` (form-encoded, pre-authorized code grant)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise WalletError(400, "invalid_request", "send application/x-www-form-urlencoded")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise WalletError(400, "invalid_request", "request too large")
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    service = service_of(request)
    return JSONResponse(await run_in_threadpool(service.wallet.token, form), headers=NO_STORE)


async def nonce(request: Request) -> Response:
    """``POST /nonce``: a fresh ``c_nonce``."""
    service = service_of(request)
    return JSONResponse(await run_in_threadpool(service.wallet.nonce), headers=NO_STORE)


async def _json(request: Request) -> object:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise WalletError(400, "invalid_credential_request", "request too large")
    try:
        return json.loads(raw)
    except ValueError:
        raise WalletError(400, "invalid_credential_request", "the body must be JSON") from None


async def credential(request: Request) -> Response:
    """``POST /credential``: the bound credential for a valid access token and key proof."""
    service = service_of(request)
    authorization = request.headers.get("authorization")
    body = await _json(request)
    text = await run_in_threadpool(service.wallet.credential, authorization, body)
    return JSONResponse({"credentials": [{"credential": text}]}, headers=NO_STORE)


async def refresh(request: Request) -> Response:
    """``POST /wallet/refresh``: a fresh credential for an active record, same device key."""
    service = service_of(request)
    body = await _json(request)
    text = await run_in_threadpool(service.wallet.refresh, body)
    return JSONResponse({"credentials": [{"credential": text}]}, headers=NO_STORE)


def wallet_error_response(exc: WalletError) -> JSONResponse:
    """The OAuth-style error body of a wallet endpoint."""
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["www-authenticate"] = f'Bearer error="{exc.error}"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=headers
    )


def routes() -> list[Route]:
    """The wallet-facing routes."""
    return [
        Route("/.well-known/openid-credential-issuer", credential_issuer_metadata, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", oauth_metadata, methods=["GET"]),
        Route("/offers/{offer_id}", offer_get, methods=["GET"]),
        Route("/token", token, methods=["POST"]),
        Route("/nonce", nonce, methods=["POST"]),
        Route("/credential", credential, methods=["POST"]),
        Route("/wallet/refresh", refresh, methods=["POST"]),
    ]
