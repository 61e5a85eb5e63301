"""Login and logout pages. The login form is CSRF-protected by a double-submit token (cookie +
hidden field) because no session exists yet; logout checks the session's own token. Failed
logins are throttled per account and per client address (`services.login_throttle`)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    OptionalSession,
    PageSession,
    State,
    Templates,
    secure_cookies,
)
from fluffymail.web.errors import CsrfFailed
from fluffymail.web.services import accounts, login_throttle

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/")
async def home(session: PageSession) -> Response:
    """Everyone lands on their contacts, the product's home; admins reach jobs from the nav."""
    return RedirectResponse("/contacts", status_code=303)


def _login_page(
    request: Request,
    templates: Templates,
    *,
    next_url: str,
    error: str | None = None,
    email: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": token, "next": next_url, "error": error, "email": email, "session": None},
        status_code=status,
        headers=headers,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/login",
    )
    return response


@router.get("/login")
async def login_form(
    request: Request, templates: Templates, session: OptionalSession, next: str | None = None
) -> Response:
    if session is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, templates, next_url=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    state: State,
    templates: Templates,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        raise CsrfFailed()
    attempt = login_throttle.LoginAttempt.of(email, request.client.host if request.client else None)
    if wait := await login_throttle.reserve(state.pool, attempt):
        return _login_page(
            request,
            templates,
            next_url=_safe_next(next),
            email=email,
            error=f"Too many failed logins. Try again in {_duration(wait)}.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    account = await accounts.authenticate(state.pool, email, password)
    if account is None:  # counted already, by the reservation
        return _login_page(
            request,
            templates,
            next_url=_safe_next(next),
            email=email,
            error="That email and password do not match.",
            status=401,
        )
    await login_throttle.succeeded(state.pool, attempt)
    token, _ = await accounts.start_session(state.pool, account)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=accounts.SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"


@router.post("/logout")
async def logout(request: Request, state: State, session: PageSession) -> Response:
    await accounts.end_session(state.pool, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
