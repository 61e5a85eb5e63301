"""`GET /api/messages/{id}`: one of the caller's messages (what citations link to); anyone
else's answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from fluffymail.web.api.contact_schemas import MessageOut
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import messages as service

ERRORS = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["messages"], responses=ERRORS)


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="One of your messages: headers, participants and body text",
)
async def get_message(
    message_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)], state: State, account: CurrentAccount
) -> MessageOut:
    return MessageOut.model_validate(await service.get_message(state.pool, account.id, message_id))
