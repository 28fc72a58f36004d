"""Public routes: published files (status lists, trust list, gate bundle), health, readiness.

Published files carry a strong ETag, ``Cache-Control: public, max-age=<status ttl>`` and answer
``304 Not Modified`` to a matching ``If-None-Match``; any static server or CDN can serve the same
folder instead.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .http import service_of
from .problems import problem
from .publication import BUNDLE_MEDIA_TYPE, STATUS_MEDIA_TYPE, TRUST_LIST_MEDIA_TYPE, etag_of


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return etag in tags


async def _serve(request: Request, name: str, media_type: str) -> Response:
    service = service_of(request)
    content = await run_in_threadpool(service.publisher.read, name)
    if content is None:
        return problem(404, "RECORD_NOT_FOUND", "not published", title="Not found")
    etag = etag_of(content)
    headers = {"etag": etag, "cache-control": f"public, max-age={service.settings.status_ttl}"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


async def status_list(request: Request) -> Response:
    """A Status List Token (``application/statuslist+cwt``)."""
    return await _serve(request, f"status/{request.path_params['n']}", STATUS_MEDIA_TYPE)


async def trust_list(request: Request) -> Response:
    """The anchor-signed trust list."""
    return await _serve(request, "trust-list", TRUST_LIST_MEDIA_TYPE)


async def bundle(request: Request) -> Response:
    """The anchor-signed gate bundle."""
    return await _serve(request, "bundle", BUNDLE_MEDIA_TYPE)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the database answers and the published files are within their validity."""
    service = service_of(request)
    database = await run_in_threadpool(service.ready)
    manifest = await run_in_threadpool(service.publisher.manifest)
    expires = manifest.get("expires_at") if manifest else None
    published = isinstance(expires, int) and expires > service.clock()
    ok = database and published
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "database": database, "published": published},
        status_code=200 if ok else 503,
    )


def routes() -> list[Route]:
    """Publication and health routes."""
    return [
        Route("/status/{n:int}", status_list, methods=["GET"]),
        Route("/trust-list", trust_list, methods=["GET"]),
        Route("/bundle", bundle, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
