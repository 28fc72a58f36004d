"""The issuer's web pages: server-rendered HTML (Jinja2) in the look of a Korean government
service (KRDS, served from the package installed by npm, never from a CDN), Korean first with
English, working without JavaScript. ``routes()`` is mounted by :func:`vcsdk.service.app.create_app`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import account, admin, applicant, credentials, documents, operator, reviewer

HERE = Path(__file__).parent
KRDS_RESOURCES = HERE / "assets" / "node_modules" / "krds-uiux" / "resources"
"""KRDS's CSS, fonts and icons (``npm ci`` in ``assets/``, run by ``scripts/bootstrap.sh``)."""
AXE_SCRIPT = HERE / "assets" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core, injected by the browser tests (never served to visitors)."""

GET, POST = ["GET"], ["GET", "POST"]


def routes() -> list[BaseRoute]:
    """The pages and their static files."""
    return [
        Mount("/static/krds", StaticFiles(directory=KRDS_RESOURCES, check_dir=False), name="krds"),
        Mount("/static/site", StaticFiles(directory=HERE / "static"), name="site"),
        Route("/", account.home, methods=GET),
        Route("/signup", account.signup, methods=POST),
        Route("/login", account.login, methods=POST),
        Route("/logout", account.logout, methods=["POST"]),
        Route("/applications", applicant.applications, methods=GET),
        Route("/applications/new", applicant.application_form, methods=POST),
        Route("/applications/{application_id}", credentials.status, methods=GET),
        Route("/applications/{application_id}/edit", applicant.application_form, methods=POST),
        Route("/applications/{application_id}/documents", documents.documents, methods=GET),
        Route("/applications/{application_id}/documents/{kind}", documents.document_upload, methods=POST),
        Route("/applications/{application_id}/documents/{kind}/file", documents.document_file, methods=GET),
        Route("/applications/{application_id}/fee", applicant.fee, methods=POST),
        Route("/applications/{application_id}/submit", applicant.submit, methods=POST),
        Route("/applications/{application_id}/offer", credentials.offer_create, methods=["POST"]),
        Route("/applications/{application_id}/offer/{offer_id}", credentials.offer_qr, methods=GET),
        Route("/my-id/{cti}", credentials.credential, methods=GET),
        Route("/my-id/{cti}/lost", credentials.report_lost, methods=POST),
        Route("/my-id/{cti}/new-phone", credentials.new_phone, methods=["POST"]),
        Route("/review", reviewer.review_queue, methods=GET),
        Route("/review/{application_id}", reviewer.review_detail, methods=POST),
        Route("/review/{application_id}/audit", reviewer.review_audit, methods=GET),
        Route("/admin/accounts", operator.admin_accounts, methods=POST),
        Route("/admin/agencies", admin.admin_agencies, methods=POST),
        Route("/admin/agencies/{code}", admin.admin_agency, methods=POST),
        Route("/admin/keys", admin.admin_keys, methods=GET),
        Route("/admin/keys/rotate", admin.admin_keys_rotate, methods=["POST"]),
        Route("/admin/keys/{kid}", admin.admin_key, methods=POST),
        Route("/admin/credentials", admin.admin_credentials, methods=GET),
        Route("/admin/credentials/{cti}", admin.admin_credential, methods=POST),
        Route("/admin/status", operator.admin_status, methods=POST),
        Route("/admin/audit", operator.admin_audit, methods=POST),
    ]
