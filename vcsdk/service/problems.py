"""RFC 9457 problem responses carrying our stable codes.

Body: ``{"type": "https://vcsdk.dev/errors#CODE", "title", "status", "detail", "code"}`` with
media type ``application/problem+json``; ``details`` (a list of strings) when the error has them
(e.g. every missing document of an incomplete application).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from ..errors import Code, CredentialInvalid, VCError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://vcsdk.dev/errors#"

HTTP_STATUS: dict[Code, int] = {
    Code.AUTHENTICATION_REQUIRED: 401,
    Code.ACCESS_DENIED: 403,
    Code.REVIEWER_CONFLICT: 403,
    Code.CSRF_TOKEN_INVALID: 403,
    Code.RECORD_NOT_FOUND: 404,
    Code.ACCOUNT_EXISTS: 409,
    Code.REGISTRY_TRANSITION_REFUSED: 409,
    Code.STATUS_TRANSITION_REFUSED: 409,
    Code.ACTIVE_CREDENTIAL_EXISTS: 409,
    Code.APPLICATION_INCOMPLETE: 422,
    Code.CLAIMS_INVALID: 422,
    Code.UPLOAD_REFUSED: 422,
    Code.LOGIN_THROTTLED: 429,
    Code.FILE_ERROR: 503,
}

TITLES: dict[Code, str] = {
    Code.AUTHENTICATION_REQUIRED: "Sign-in required",
    Code.ACCESS_DENIED: "Not allowed",
    Code.REVIEWER_CONFLICT: "Conflict of interest",
    Code.CSRF_TOKEN_INVALID: "Form expired or forged",
    Code.RECORD_NOT_FOUND: "Not found",
    Code.ACCOUNT_EXISTS: "Account exists",
    Code.REGISTRY_TRANSITION_REFUSED: "Not possible in this state",
    Code.STATUS_TRANSITION_REFUSED: "Status change refused",
    Code.ACTIVE_CREDENTIAL_EXISTS: "An active ID exists",
    Code.APPLICATION_INCOMPLETE: "Application incomplete",
    Code.CLAIMS_INVALID: "Form data invalid",
    Code.UPLOAD_REFUSED: "Upload refused",
    Code.LOGIN_THROTTLED: "Too many attempts",
    Code.FILE_ERROR: "Storage unavailable",
}


def status_for(code: Code) -> int:
    """The HTTP status of a problem with ``code``."""
    return HTTP_STATUS.get(code, 400)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_for(exc: VCError) -> JSONResponse:
    """The problem response of an SDK error (the message is ours, never echoed input or secrets)."""
    code = exc.code
    status = status_for(code) if not isinstance(exc, CredentialInvalid) or code in HTTP_STATUS else 400
    extra: dict[str, Any] = {"details": list(exc.details)} if exc.details else {}
    headers = {"WWW-Authenticate": 'Cookie realm="vcsdk"'} if status == 401 else None
    detail = exc.message
    if code is Code.FILE_ERROR:
        detail = "the database or document store is unavailable"  # never leak driver text
    return problem(status, code.value, detail, title=TITLES.get(code), headers=headers, **extra)
