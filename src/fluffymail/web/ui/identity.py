"""The "You" page: the user's own addresses and the people who send from their mailbox, with
the evidence for each, and confirm / reject forms (CSRF-checked by `PageSession`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import NotFound
from fluffymail.web.services import identity as service
from fluffymail.web.services.accounts import Session

router = APIRouter()
Address = Annotated[str, Path(min_length=3, max_length=320)]
NOTICES = {
    "confirmed": "Done: that address is yours now, and its mail counts as yours.",
    "rejected": "Done: that address is someone else now, and its mail counts as theirs.",
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
) -> Response:
    found = await service.load(state.pool, session.account.id)
    context = {
        "session": session,
        "identity": found,
        "notice": notice,
        "error": error,
        "active": "you",
    }
    return templates.TemplateResponse(request, "identity.html", context, status_code=status)


@router.get("/you")
async def page(
    request: Request, state: State, templates: Templates, session: PageSession, done: str = ""
) -> Response:
    return await _render(request, state, templates, session, notice=NOTICES.get(done))


@router.post("/you/aliases/{address}/confirm")
async def confirm(
    address: Address, request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    account = session.account
    try:
        await service.confirm(
            state.pool, account.id, address, actor=account.email, queue=state.queue
        )
    except service.IdentityRefused as exc:
        return await _render(request, state, templates, session, error=str(exc), status=409)
    except service.AddressNotListed as exc:
        raise NotFound(str(exc)) from exc
    return RedirectResponse("/you?done=confirmed", status_code=303)


@router.post("/you/aliases/{address}/reject")
async def reject(
    address: Address, request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    account = session.account
    try:
        await service.reject(
            state.pool,
            account.id,
            address,
            account_email=account.email,
            actor=account.email,
            queue=state.queue,
        )
    except service.IdentityRefused as exc:
        return await _render(request, state, templates, session, error=str(exc), status=409)
    except service.AddressNotListed as exc:
        raise NotFound(str(exc)) from exc
    return RedirectResponse("/you?done=rejected", status_code=303)
