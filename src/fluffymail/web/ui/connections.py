"""The connections page: the user's mail connections with live sync status and "Sync now"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.services import connections as service
from fluffymail.web.services.accounts import Session

router = APIRouter()
POLL_SECONDS = 3


async def _render(request: Request, state: State, templates: Templates, session: Session,
                  template: str, notice: str | None = None) -> Response:
    items = await service.list_connections(state.pool, session.account.id)
    now = await service.db_now(state.pool)
    context = {"session": session, "connections": items, "notice": notice, "now": now,
               "poll": POLL_SECONDS, "active": "connections"}
    return templates.TemplateResponse(request, template, context)


@router.get("/connections")
async def page(request: Request, state: State, templates: Templates, session: PageSession) -> Response:
    return await _render(request, state, templates, session, "connections.html")


@router.get("/connections/list")
async def listing(request: Request, state: State, templates: Templates, session: PageSession) -> Response:
    return await _render(request, state, templates, session, "partials/connections_list.html")


@router.post("/connections/{connection_id}/sync")
async def sync(connection_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)], request: Request,
               state: State, templates: Templates, session: PageSession) -> Response:
    result = await service.request_sync(state.pool, state.queue, session.account.id, connection_id)
    notice = ("Sync queued; it also runs every 15 minutes." if result.job_id
              else "A sync is already queued for this connection.")
    return await _render(request, state, templates, session, "partials/connections_list.html", notice)
