"""The OpenAPI 3.1 document of the service's JSON and wallet API, generated from the routes.

Each operation's summary is its handler's docstring; request bodies and error responses are
described here. ``docs/openapi.json`` is the published copy; a test keeps it equal.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from .. import __version__

PROBLEM = {"$ref": "#/components/schemas/Problem"}
OAUTH_ERROR = {"$ref": "#/components/schemas/OAuthError"}

REQUEST_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/session"): {"$ref": "#/components/schemas/Credentials"},
    ("POST", "/api/accounts"): {"$ref": "#/components/schemas/Credentials"},
    ("POST", "/api/staff"): {
        "allOf": [
            {"$ref": "#/components/schemas/Credentials"},
            {"type": "object", "properties": {"role": {"enum": ["reviewer", "operator"]}}},
        ]
    },
    ("POST", "/api/applications"): {
        "type": "object",
        "required": ["claims", "contact"],
        "properties": {"claims": {"type": "object"}, "contact": {"type": "string", "maxLength": 256}},
    },
    ("POST", "/api/reviews/{application_id}/approve"): {"$ref": "#/components/schemas/Reason"},
    ("POST", "/api/reviews/{application_id}/reject"): {"$ref": "#/components/schemas/Reason"},
    ("POST", "/api/reviews/{application_id}/request-documents"): {"$ref": "#/components/schemas/Reason"},
    ("POST", "/api/credentials/{cti}/change"): {
        "type": "object",
        "required": ["changes"],
        "properties": {"changes": {"type": "object"}},
    },
    ("POST", "/api/credentials/{cti}/renew"): {
        "type": "object",
        "required": ["changes"],
        "properties": {"changes": {"type": "object"}},
    },
    ("POST", "/credential"): {
        "type": "object",
        "required": ["credential_configuration_id", "proofs"],
        "properties": {
            "credential_configuration_id": {"const": "KR-GOV-OfficialID"},
            "proofs": {"$ref": "#/components/schemas/Proofs"},
        },
    },
    ("POST", "/wallet/refresh"): {
        "type": "object",
        "required": ["credential", "proofs"],
        "properties": {"credential": {"type": "string"}, "proofs": {"$ref": "#/components/schemas/Proofs"}},
    },
}

FORM_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/token"): {
        "type": "object",
        "required": ["grant_type", "pre-authorized_code"],
        "properties": {
            "grant_type": {"const": "urn:ietf:params:oauth:grant-type:pre-authorized_code"},
            "pre-authorized_code": {"type": "string"},
            "tx_code": {"type": "string"},
        },
    },
}

MULTIPART_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/applications/{application_id}/documents"): {
        "type": "object",
        "required": ["kind", "file"],
        "properties": {
            "kind": {"enum": ["identity_document", "photo", "position_certificate", "recommendation", "fee_payment"]},
            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
            "meta": {"type": "string", "description": "a flat JSON object (e.g. captured date of a photo)"},
            "csrf_token": {"type": "string"},
        },
    },
}

COMPONENTS: dict[str, Any] = {
    "schemas": {
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "code": {"type": "string", "description": "a stable vcsdk code (schemas/error-codes.json)"},
                "details": {"type": "array", "items": {"type": "string"}},
            },
        },
        "OAuthError": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
        },
        "Credentials": {
            "type": "object",
            "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string", "minLength": 10}},
        },
        "Reason": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 2000}}},
        "Proofs": {
            "type": "object",
            "required": ["cwt"],
            "properties": {"cwt": {"type": "array", "minItems": 1, "maxItems": 1, "items": {"type": "string"}}},
        },
    },
    "securitySchemes": {
        "session": {"type": "apiKey", "in": "cookie", "name": "vcsdk_session"},
        "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
        "accessToken": {"type": "http", "scheme": "bearer"},
    },
}

WALLET_PATHS = ("/token", "/nonce", "/credential", "/wallet/refresh", "/offers/", "/.well-known/")
PUBLIC_PATHS = ("/status/", "/trust-list", "/bundle", "/healthz", "/readyz", "/openapi.json")


def _openapi_path(path: str) -> str:
    return path.replace(":int}", "}")


def _operation(method: str, path: str, route: Route) -> dict[str, Any]:
    doc = (route.endpoint.__doc__ or route.name or "").strip()
    summary = doc.splitlines()[0] if doc else route.name
    api = path.startswith("/api/")
    wallet = path.startswith(WALLET_PATHS)
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{route.name}",
        "summary": summary,
        "tags": ["api" if api else "wallet" if wallet else "public"],
        "responses": {
            "200": {"description": "success"},
            "4XX": {
                "description": "error",
                "content": {
                    "application/json" if wallet else "application/problem+json": {
                        "schema": OAUTH_ERROR if wallet and path != "/wallet/refresh" else PROBLEM
                    }
                },
            },
        },
    }
    params = [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]
    if params:
        operation["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
        ]
    key = (method, _openapi_path(path))
    if key in REQUEST_BODIES:
        operation["requestBody"] = {"content": {"application/json": {"schema": REQUEST_BODIES[key]}}}
    elif key in FORM_BODIES:
        operation["requestBody"] = {"content": {"application/x-www-form-urlencoded": {"schema": FORM_BODIES[key]}}}
    elif key in MULTIPART_BODIES:
        operation["requestBody"] = {"content": {"multipart/form-data": {"schema": MULTIPART_BODIES[key]}}}
    if api and method != "GET":
        operation["security"] = [{"session": [], "csrf": []}]
    elif api:
        operation["security"] = [{"session": []}]
    if path == "/credential":
        operation["security"] = [{"accessToken": []}]
    return operation


def api_routes(routes: list[BaseRoute]) -> list[Route]:
    """The routes the document describes: the JSON API, the wallet endpoints and public files."""
    return [
        r
        for r in routes
        if isinstance(r, Route) and (r.path.startswith("/api/") or r.path.startswith(WALLET_PATHS + PUBLIC_PATHS))
    ]


def build_openapi(routes: list[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (server-independent: no base URL inside)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in api_routes(routes):
        path = _openapi_path(route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(method, route.path, route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vcsdk issuer service",
            "version": __version__,
            "description": "Applications, review, OpenID4VCI issuance (format vcsdk_gid1), lifecycle and publication "
            "of the Korean mobile official ID.",
        },
        "paths": dict(sorted(paths.items())),
        "components": COMPONENTS,
    }
