"""The JSON API: accounts and sessions, applications and documents, review, credentials.

Every state-changing request needs the session's CSRF token (``X-CSRF-Token`` header or
``csrf_token`` form field); errors are problem+json with our codes. Another person's application,
document or credential answers 404 ``RECORD_NOT_FOUND``, exactly as a missing one does.
"""

from __future__ import annotations

from starlette.routing import Route

from .accounts import account_create, session_create, session_delete, session_get, staff_create, staff_list
from .applications import (
    application_create,
    application_get,
    application_list,
    application_submit,
    document_get,
    document_upload,
    offer_create,
    offer_qr,
)
from .credentials import _operate, credential_change, credential_get, credential_report_lost
from .reviews import _decide, review_queue


def routes() -> list[Route]:
    """The JSON API's routes."""
    return [
        Route("/api/session", session_get, methods=["GET"]),
        Route("/api/session", session_create, methods=["POST"]),
        Route("/api/session", session_delete, methods=["DELETE"]),
        Route("/api/accounts", account_create, methods=["POST"]),
        Route("/api/staff", staff_list, methods=["GET"]),
        Route("/api/staff", staff_create, methods=["POST"]),
        Route("/api/applications", application_list, methods=["GET"]),
        Route("/api/applications", application_create, methods=["POST"]),
        Route("/api/applications/{application_id}", application_get, methods=["GET"]),
        Route("/api/applications/{application_id}/documents", document_upload, methods=["POST"]),
        Route("/api/applications/{application_id}/documents/{sha256}", document_get, methods=["GET"]),
        Route("/api/applications/{application_id}/submit", application_submit, methods=["POST"]),
        Route("/api/applications/{application_id}/offer", offer_create, methods=["POST"]),
        Route("/api/offers/{offer_id}/qr.png", offer_qr, methods=["GET"]),
        Route("/api/reviews", review_queue, methods=["GET"]),
        Route("/api/reviews/{application_id}/approve", _decide("approve"), methods=["POST"]),
        Route("/api/reviews/{application_id}/reject", _decide("reject"), methods=["POST"]),
        Route("/api/reviews/{application_id}/request-documents", _decide("request_documents"), methods=["POST"]),
        Route("/api/credentials/{cti}", credential_get, methods=["GET"]),
        Route("/api/credentials/{cti}/report-lost", credential_report_lost, methods=["POST"]),
        Route("/api/credentials/{cti}/change", credential_change, methods=["POST"]),
        Route("/api/credentials/{cti}/suspend", _operate("suspend"), methods=["POST"]),
        Route("/api/credentials/{cti}/reinstate", _operate("reinstate"), methods=["POST"]),
        Route("/api/credentials/{cti}/revoke", _operate("revoke"), methods=["POST"]),
        Route("/api/credentials/{cti}/renew", _operate("renew"), methods=["POST"]),
    ]
