"""The account page: change the password (ending the user's other sessions) and list and
revoke API tokens. Its forms carry the session's CSRF token, checked by `PageSession`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import NotFound
from fluffymail.web.services import accounts
from fluffymail.web.services.accounts import Session

router = APIRouter()
NOTICES = {
    "password": "Password changed. Every other browser logged in as you has been logged out.",
    "revoked": "Token revoked: it no longer works.",
}


async def _render(
    request: Request,
    state: State,
    templates: Templates,
    session: Session,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    tokens = await accounts.list_api_tokens(state.pool, session.account.id)
    context = {
        "session": session,
        "tokens": tokens,
        "notice": notice,
        "error": error,
        "active": "account",
    }
    return templates.TemplateResponse(
        request, "account.html", context, status_code=status, headers=headers
    )


@router.get("/account")
async def page(
    request: Request, state: State, templates: Templates, session: PageSession, done: str = ""
) -> Response:
    return await _render(request, state, templates, session, notice=NOTICES.get(done))


@router.post("/account/password")
async def change_password(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        await accounts.change_password(
            state.pool,
            session.account,
            current_password,
            new_password,
            keep_session=session.id,
            address=request.client.host if request.client else None,
        )
    except accounts.Throttled as exc:
        return await _render(
            request, state, templates, session, error=f"Too many wrong passwords. Try again in {exc.wait} seconds.",
            status=429, headers={"Retry-After": str(exc.wait)},
        )  # fmt: skip
    except accounts.AccountError as exc:
        message = str(exc)
        return await _render(
            request, state, templates, session, error=message[:1].upper() + message[1:] + ".",
            status=400,
        )  # fmt: skip
    return RedirectResponse("/account?done=password", status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)], state: State, session: PageSession
) -> Response:
    if await accounts.revoke_api_token(state.pool, token_id, account_id=session.account.id) is None:
        raise NotFound("no such API token of yours")
    return RedirectResponse("/account?done=revoked", status_code=303)
