"""The ASGI application (Starlette), built by :func:`create_app` from :class:`Settings`.

No import-time globals: every app has its own :class:`~vcsdk.service.core.Service`, so tests make
as many as they like. HTML pages are added by ``extra_routes`` or, when the package
``vcsdk.service.web`` exists, by its ``routes()`` function.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..clock import Clock, system_clock
from ..errors import VCError
from . import api, oid4vci, public
from .core import Service
from .http import (
    LOGGER,
    AccessLogMiddleware,
    BodyLimitMiddleware,
    QueryStringMiddleware,
    SessionMiddleware,
    configure_logging,
)
from .issuance import WalletError
from .openapi import build_openapi
from .problems import problem, problem_for
from .settings import Settings, load_settings
from .storage import DocumentStorage

ExceptionHandler = Callable[[Request, Exception], Any]
MULTIPART_OVERHEAD = 64 * 1024


class SecurityHeadersMiddleware:
    """Conservative headers on every response; ``no-store`` on the JSON API."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api_path = str(scope.get("path", "")).startswith("/api/")

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if api_path:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + [(k, v) for k, v in extra if k not in present]
            await send(message)

        await self.app(scope, receive, add)


async def _vc_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VCError)
    return problem_for(exc)


async def _wallet_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WalletError)
    return oid4vci.wallet_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "RECORD_NOT_FOUND" if exc.status_code == 404 else "USAGE_ERROR"
    return problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))


async def _internal_error(request: Request, exc: Exception) -> Response:
    LOGGER.error("unhandled", extra={"fields": {"error": type(exc).__name__}})  # type only: no input, no secrets
    return problem(500, "INTERNAL_ERROR", "the service failed; the error was logged", title="Internal error")


def _web_routes() -> list[BaseRoute]:
    if importlib.util.find_spec("vcsdk.service.web") is None:
        return []
    module = importlib.import_module("vcsdk.service.web")
    factory = getattr(module, "routes", None)
    return list(factory()) if callable(factory) else []


async def _republish_loop(service: Service) -> None:
    while True:
        try:
            if await run_in_threadpool(lambda: service.publisher.due() or service.publisher.lists_changed()):
                await run_in_threadpool(service.publisher.publish)
        except VCError as exc:  # keep serving; the next round retries
            LOGGER.warning("republish failed", extra={"fields": {"code": exc.code.value}})
        await asyncio.sleep(max(1, service.settings.republish_interval))


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    extra_routes: Sequence[BaseRoute] | None = None,
    exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
    storage: DocumentStorage | None = None,
    prepare: bool = True,
    schedule: bool = True,
) -> Starlette:
    """The issuer service as an ASGI app.

    ``extra_routes``: more routes (the HTML pages); default: ``vcsdk.service.web.routes()`` when
    that module exists. ``exception_handlers`` override the defaults (problem+json) per type.
    ``prepare``: create/migrate the database first. ``schedule``: republish in the background.
    """
    service = Service(settings, clock=clock, storage=storage, prepare=prepare)
    routes: list[BaseRoute] = [*api.routes(), *oid4vci.routes(), *public.routes()]
    routes.extend(_web_routes() if extra_routes is None else extra_routes)

    async def openapi(request: Request) -> Response:
        """The OpenAPI document of this API."""
        return JSONResponse(build_openapi(request.app.routes))

    routes.append(Route("/openapi.json", openapi, methods=["GET"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if await run_in_threadpool(lambda: service.publisher.due() or service.publisher.lists_changed()):
            await run_in_threadpool(service.publisher.publish)
        task = asyncio.create_task(_republish_loop(service)) if schedule else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            service.close()

    handlers: dict[Any, ExceptionHandler] = {
        VCError: _vc_error,
        WalletError: _wallet_error,
        HTTPException: _http_error,
        Exception: _internal_error,
    }
    handlers.update(exception_handlers or {})
    middleware = [
        Middleware(AccessLogMiddleware),
        Middleware(SecurityHeadersMiddleware),
        Middleware(QueryStringMiddleware),
        Middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes + MULTIPART_OVERHEAD),
        Middleware(SessionMiddleware, service=service),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers, lifespan=lifespan)
    app.state.service = service
    return app


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory vcsdk.service.app:app_from_environment`` (several workers):
    settings from ``VCSDK_CONFIG`` (a TOML file) and ``VCSDK_*`` variables; the database must
    already be prepared (``vcsdk serve`` does it once before starting the workers)."""
    configure_logging(logging.INFO)
    settings = load_settings(os.environ.get("VCSDK_CONFIG") or None)
    return create_app(settings, prepare=False)
