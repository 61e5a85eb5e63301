"""The Groups pages: the user's distribution lists and team addresses, and one group with the
people seen writing to it (groups are never ranked among people)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.services import groups as service

router = APIRouter()


@router.get("/groups")
async def page(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    context = {
        "session": session,
        "groups": await service.list_groups(state.pool, session.account.id),
        "named": await service.named_groups(state.pool, session.account.id),
        "reasons": service.REASONS,
        "active": "groups",
    }
    return templates.TemplateResponse(request, "groups.html", context)


@router.get("/groups/{group_id}")
async def group(
    group_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    detail = await service.get_group(state.pool, session.account.id, group_id)
    context = {"session": session, "detail": detail, "active": "groups"}
    return templates.TemplateResponse(request, "group.html", context)
