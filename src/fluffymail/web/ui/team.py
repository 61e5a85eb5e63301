"""The team page (members, roles, invite links: owners invite, revoke, remove and change roles;
anyone may leave) and the invite page a link opens: join as the logged-in user, or make an
account and join. Owner-only forms are not shown to members, and refused (403) if sent."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.crm.team.models import Role
from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.api.team import invite_url
from fluffymail.web.deps import (
    SESSION_COOKIE,
    OptionalSession,
    PageSession,
    State,
    Templates,
    secure_cookies,
)
from fluffymail.web.errors import CsrfFailed
from fluffymail.web.services import accounts, login_throttle
from fluffymail.web.services import team as service
from fluffymail.web.services.accounts import Session

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
Token = Annotated[str, Path(min_length=1, max_length=200)]
SIGNUP_CSRF_COOKIE = "fm_invite_csrf"
NOTICES = {
    "revoked": "Invite revoked: its link no longer works.",
    "removed": "Removed from the workspace.",
    "role": "Role changed.",
    "renamed": "Workspace renamed.",
    "joined": "Welcome: you joined the workspace.",
    "already": "You already are a member of this workspace.",
}


async def _render(
    request: Request,
    state: State,
    templates: Templates,
    session: Session,
    *,
    notice: str | None = None,
    new_link: str | None = None,
) -> Response:
    found = await service.team(state.pool, session.account.id)
    context = {
        "session": session,
        "team": found,
        "notice": notice,
        "new_link": new_link,
        "active": "team",
    }
    return templates.TemplateResponse(request, "team.html", context)


@router.get("/team")
async def page(
    request: Request, state: State, templates: Templates, session: PageSession, done: str = ""
) -> Response:
    return await _render(request, state, templates, session, notice=NOTICES.get(done))


@router.post("/team/invites")
async def create_invite(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    role: Annotated[Role, Form()] = "member",
    note: Annotated[str, Form(max_length=200, pattern=r"^[^\x00-\x1f]*$")] = "",
) -> Response:
    made = await service.create_invite(state.pool, session.account.id, role=role, note=note)
    link = invite_url(request, made.token)
    return await _render(request, state, templates, session, new_link=link)


@router.post("/team/invites/{invite_id}/revoke")
async def revoke_invite(invite_id: Id, state: State, session: PageSession) -> Response:
    await service.revoke_invite(state.pool, session.account.id, invite_id)
    return RedirectResponse("/team?done=revoked", status_code=303)


@router.post("/team/members/{member_id}/remove")
async def remove_member(member_id: Id, state: State, session: PageSession) -> Response:
    await service.remove_member(state.pool, session.account.id, member_id)
    return RedirectResponse("/team?done=removed", status_code=303)


@router.post("/team/members/{member_id}/role")
async def set_role(
    member_id: Id, state: State, session: PageSession, role: Annotated[Role, Form()]
) -> Response:
    await service.set_role(state.pool, session.account.id, member_id, role)
    return RedirectResponse("/team?done=role", status_code=303)


@router.post("/team/rename")
async def rename(
    state: State,
    session: PageSession,
    name: Annotated[
        str,
        Form(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$"),
    ],
) -> Response:
    await service.rename(state.pool, session.account.id, name)
    return RedirectResponse("/team?done=renamed", status_code=303)


def _invite_page(
    request: Request,
    templates: Templates,
    session: Session | None,
    found: service.LinkedInvite,
    token: str,
    *,
    error: str | None = None,
    email: str = "",
    name: str = "",
    status: int = 200,
) -> Response:
    csrf = secrets.token_urlsafe(32)
    context = {
        "session": session,
        "found": found,
        "token": token,
        "error": error,
        "email": email,
        "name": name,
        "signup_csrf": csrf,
    }
    response = templates.TemplateResponse(request, "invite.html", context, status_code=status)
    response.set_cookie(
        SIGNUP_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/invite",
    )
    return response


@router.get("/invite/{token}", name="invite_page")
async def invite_page(
    request: Request, state: State, templates: Templates, session: OptionalSession, token: Token
) -> Response:
    """What the link offers; used, expired or unknown links answer a page that says so."""
    found = await service.look_up(state.pool, token)
    return _invite_page(request, templates, session, found, token)


@router.post("/invite/{token}")
async def join(token: Token, state: State, session: PageSession) -> Response:
    _, joined = await service.accept(state.pool, session.account.id, token)
    return RedirectResponse("/team?done=" + ("joined" if joined else "already"), status_code=303)


@router.post("/invite/{token}/signup")
async def signup(
    request: Request,
    state: State,
    templates: Templates,
    token: Token,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Make an account with the link and join; an address that has one must log in instead."""
    found = await service.look_up(state.pool, token)
    cookie = request.cookies.get(SIGNUP_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        raise CsrfFailed()
    address = request.client.host if request.client else None
    attempt = login_throttle.LoginAttempt.signing_up(token, address)
    if wait := await login_throttle.reserve(state.pool, attempt):
        return _invite_page(
            request, templates, None, found, token, email=email, name=name, status=429,
            error=f"Too many tries with this link. Try again in {wait} seconds.",
        )  # fmt: skip
    try:
        account = await service.sign_up(state.pool, email=email, name=name, password=password)
    except accounts.AccountError as exc:
        message = str(exc)
        return _invite_page(
            request, templates, None, found, token, error=message[:1].upper() + message[1:] + ".",
            email=email, name=name, status=400,
        )  # fmt: skip
    await login_throttle.succeeded(state.pool, attempt)
    await service.accept(state.pool, account.id, token)
    session_token, _ = await accounts.start_session(state.pool, account)
    response = RedirectResponse("/team?done=joined", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_token,
        max_age=accounts.SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(SIGNUP_CSRF_COOKIE, path="/invite")
    return response
