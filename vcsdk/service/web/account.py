"""Home, sign-up, sign-in (resuming a form typed while signed out) and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...errors import AccountExists, AuthenticationRequired, CSRFTokenInvalid, LoginThrottled, UsageError
from ..accounts import Account
from ..http import check_csrf, current_account, end_session, service_of, start_session
from . import forms
from .common import (
    RESUMABLE,
    agencies,
    call,
    client_of,
    error_page,
    form_of,
    korean_agencies,
    read_resume,
    safe_next,
    text,
    today,
)
from .render import HOME, render, translator


async def home(request: Request) -> Response:
    """The start page (signed-in people go to their own start)."""
    account = current_account(request)
    if account is not None:
        return RedirectResponse(HOME.get(account.role, "/applications"), status_code=303)
    return render(request, "home.html")


async def signup(request: Request) -> Response:
    """Create an applicant account and sign in."""
    service = service_of(request)
    if request.method == "GET":
        return render(request, "signup.html")
    t = translator(request)
    try:
        await check_csrf(request)
    except CSRFTokenInvalid:
        return error_page(request, 400, t("error.csrf"), t("error.csrf_text"))
    form = await form_of(request)
    checked = forms.check_signup(form)
    errors = dict(checked.errors)
    account: Account | None = None
    if checked.ok:
        try:
            account = await call(
                service.accounts.create,
                checked.values["username"],
                text(form, "password"),
                "applicant",
                created_by="self",
            )
        except AccountExists:
            errors["username"] = ("v.username_taken", {})
        except UsageError:
            errors["username"] = ("v.username_bad", {})
    if account is None:
        return render(request, "signup.html", status=400, errors=errors, values=checked.values)
    response = RedirectResponse("/applications/new", status_code=303)
    await start_session(request, response, account)
    return response


async def login(request: Request) -> Response:
    """Sign in; a form sent after the session ended is shown back, as it was typed."""
    service = service_of(request)
    next_url = request.query_params.get("next", "")
    if request.method == "GET":
        return render(request, "login.html", next=safe_next(next_url), resume="")
    t = translator(request)
    try:
        await check_csrf(request)
    except CSRFTokenInvalid:
        return error_page(request, 400, t("error.csrf"), t("error.csrf_text"))
    form = await form_of(request)
    username, password, resume = text(form, "username"), text(form, "password"), text(form, "resume")
    next_url = safe_next(text(form, "next"))
    try:
        account = await call(service.accounts.authenticate, username, password, client=client_of(request))
    except LoginThrottled:
        errors: dict[str, forms.FieldError] = {"password": ("v.login_throttled", {})}
        return render(
            request,
            "login.html",
            status=429,
            errors=errors,
            values={"username": username},
            next=next_url,
            resume=resume,
        )
    except AuthenticationRequired:
        errors = {"password": ("v.login_failed", {})}
        return render(
            request,
            "login.html",
            status=400,
            errors=errors,
            values={"username": username},
            next=next_url,
            resume=resume,
        )
    resumed = read_resume(service, resume) if resume else None
    if resumed is not None and not RESUMABLE.fullmatch(resumed[0]):
        resumed = None
    if resumed is None:
        response: Response = RedirectResponse(next_url or HOME.get(account.role, "/applications"), status_code=303)
        await start_session(request, response, account)
        return response
    cookies = Response()
    await start_session(request, cookies, account)  # the page below needs the new session's CSRF token
    response = await resume_form(request, account, resumed[0], resumed[1])
    for value in cookies.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


async def logout(request: Request) -> Response:
    """Sign out."""
    response = RedirectResponse("/", status_code=303)
    try:
        await check_csrf(request)
    except CSRFTokenInvalid:
        return response
    await end_session(request, response)
    return response


async def resume_form(request: Request, account: Account, path: str, values: dict[str, str]) -> Response:
    """The application form again, after signing in, with what was typed before."""
    service = service_of(request)
    t = translator(request)
    flash = ("warning", t("login.resumed"))
    checked = forms.check_application(values, korean_agencies(service), today(service))
    return render(
        request,
        "apply_form.html",
        errors=checked.errors,
        values=checked.values,
        flash=flash,
        action=path,
        agencies=list(agencies(service, t.lang).items()),
        step=1,
    )
