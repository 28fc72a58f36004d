"""The issuer's web pages: server-rendered HTML (Jinja2) in the look of a Korean government
service (KRDS, served from the package installed by npm, never from a CDN), Korean first with
English, working without JavaScript. ``routes()`` is mounted by :func:`vcsdk.service.app.create_app`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import pages

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
        Route("/", pages.home, methods=GET),
        Route("/signup", pages.signup, methods=POST),
        Route("/login", pages.login, methods=POST),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/applications", pages.applications, methods=GET),
        Route("/applications/new", pages.application_form, methods=POST),
        Route("/applications/{application_id}", pages.status, methods=GET),
        Route("/applications/{application_id}/edit", pages.application_form, methods=POST),
        Route("/applications/{application_id}/documents", pages.documents, methods=GET),
        Route("/applications/{application_id}/documents/{kind}", pages.document_upload, methods=POST),
        Route("/applications/{application_id}/documents/{kind}/file", pages.document_file, methods=GET),
        Route("/applications/{application_id}/fee", pages.fee, methods=POST),
        Route("/applications/{application_id}/submit", pages.submit, methods=POST),
        Route("/applications/{application_id}/offer", pages.offer_create, methods=["POST"]),
        Route("/applications/{application_id}/offer/{offer_id}", pages.offer_qr, methods=GET),
        Route("/my-id/{cti}", pages.credential, methods=GET),
        Route("/my-id/{cti}/lost", pages.report_lost, methods=POST),
        Route("/my-id/{cti}/new-phone", pages.new_phone, methods=["POST"]),
        Route("/review", pages.review_queue, methods=GET),
        Route("/review/{application_id}", pages.review_detail, methods=POST),
        Route("/review/{application_id}/audit", pages.review_audit, methods=GET),
        Route("/admin/accounts", pages.admin_accounts, methods=POST),
        Route("/admin/agencies", pages.admin_agencies, methods=GET),
        Route("/admin/keys", pages.admin_keys, methods=GET),
        Route("/admin/status", pages.admin_status, methods=POST),
        Route("/admin/audit", pages.admin_audit, methods=POST),
    ]
