"""The message page: one of the user's messages (what score evidence and summary citations link
to), headers and body text, escaped."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.services import messages as service

router = APIRouter()


@router.get("/messages/{message_id}")
async def message(
    message_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    view = await service.get_message(state.pool, session.account.id, message_id)
    context = {"session": session, "m": view, "active": "contacts"}
    return templates.TemplateResponse(request, "message.html", context)
