"""Rendering: one Jinja2 environment (autoescaped), the page context and the language cookie."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..http import CSRF_FIELD, csrf_token, current_account
from .forms import FieldError
from .i18n import Translator, choose

LANG_COOKIE = "lang"
MENUS: dict[str, tuple[tuple[str, str], ...]] = {
    "applicant": (("/applications", "nav.my_applications"),),
    "reviewer": (("/review", "nav.queue"),),
    "operator": (
        ("/review", "nav.queue"),
        ("/admin/accounts", "nav.accounts"),
        ("/admin/agencies", "nav.agencies"),
        ("/admin/credentials", "nav.credentials"),
        ("/admin/keys", "nav.keys"),
        ("/admin/status", "nav.status_lists"),
        ("/admin/audit", "nav.audit"),
    ),
}
HOME = {"applicant": "/applications", "reviewer": "/review", "operator": "/review"}
CSP = (
    "default-src 'self'; img-src 'self' data:; font-src 'self' data:; style-src 'self'; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""The pages need nothing but their own files (and data: URIs for the offer QR and KRDS's icon font)."""


@cache
def environment() -> Environment:
    """The template environment (built once, on first use)."""
    return Environment(
        loader=PackageLoader("vcsdk.service.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language(request: Request) -> str:
    """The page language: ``?lang=``, then the cookie, then Korean."""
    return choose(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def translator(request: Request) -> Translator:
    """The translator for this request."""
    return Translator(language(request))


def when(ts: int | None, lang: str) -> str:
    """A time stamp as the pages show it (UTC, minutes)."""
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(int(ts), tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if lang == "en" else moment.strftime("%Y년 %m월 %d일 %H:%M (UTC)")


def day(ts: int | None) -> str:
    """A time stamp as a date."""
    return "" if ts is None else datetime.fromtimestamp(int(ts), tz=UTC).date().isoformat()


def messages(t: Translator, errors: Mapping[str, FieldError]) -> dict[str, str]:
    """Error keys and parameters as sentences in the page language (a ``field`` parameter is a key too)."""
    out = {}
    for name, (key, params) in errors.items():
        values = {k: (t(v) if k == "field" and isinstance(v, str) else v) for k, v in params.items()}
        out[name] = t(key, **values)
    return out


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    errors: Mapping[str, FieldError] | None = None,
    values: Mapping[str, Any] | None = None,
    flash: tuple[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page: the template with the common context (translator, account, menu, CSRF field)."""
    lang = language(request)
    t = Translator(lang)
    account = current_account(request)
    path = request.url.path

    def lang_url(target: str) -> str:
        query = dict(request.query_params)
        query["lang"] = target
        return f"{path}?{urlencode(query)}"

    def csrf_input() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(csrf_token(request)))

    def static_url(kind: str, name: str) -> str:
        return f"/static/{kind}/{name}"

    def fmt_krw(amount: int) -> str:
        return f"{int(amount):,}원" if lang == "ko" else f"KRW {int(amount):,}"

    menu = []
    if account is not None:
        for url, label in MENUS.get(account.role, ()):
            menu.append({"url": url, "label": label, "current": path == url or path.startswith(url + "/")})
    data = {
        "request": request,
        "t": t,
        "lang": lang,
        "lang_url": lang_url,
        "account": account,
        "menu": menu,
        "csrf_input": csrf_input,
        "static_url": static_url,
        "fmt_krw": fmt_krw,
        "home_url": HOME.get(account.role, "/") if account is not None else "/",
        "errors": messages(t, errors or {}),
        "values": dict(values or {}),
        "flash": None if flash is None else {"kind": flash[0], "text": flash[1]},
        "step": 0,
        **context,
    }
    body = environment().get_template(template).render(data)
    headers = {"cache-control": "no-store, private", "content-security-policy": CSP}
    response = HTMLResponse(body, status_code=status, headers=headers)
    chosen = request.query_params.get("lang")
    if chosen is not None and chosen == lang and request.cookies.get(LANG_COOKIE) != lang:
        secure = bool(request.app.state.service.settings.secure_cookies)
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", secure=secure)
    return response
