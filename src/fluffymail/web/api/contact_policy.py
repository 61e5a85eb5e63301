"""Why a connection's mail made no contacts: the explanation, the people who wrote to the caller
through it and are not contacts (with their message counts), and adding them as contacts.
The policy itself is changed with `PATCH /api/connections/{id}` (`contact_policy`).

Every query carries the caller's user id: someone else's connection or contact answers 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from fluffymail.web.api.connections import NOT_FOUND
from fluffymail.web.api.schemas import BIGINT_MAX, JSON_INT_MAX
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import contact_policy as service

router = APIRouter(prefix="/api", tags=["connections"], responses=NOT_FOUND)
ConnectionId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
ContactPolicy = Literal["sent", "sent_and_received", "none"]


class ExplanationOut(BaseModel):
    policy: ContactPolicy = Field(
        description="sent: people you write to become contacts; sent_and_received: also people"
        " who write to you; none: this connection creates no contacts"
    )
    messages: int = Field(description="The connection's messages")
    pending: int = Field(description="Of which not yet read for people")
    automated: int = Field(description="Of which newsletters or automated mail (no contacts)")
    wrote: int = Field(description="People who wrote to you")
    waiting: int = Field(description="Of whom not contacts (held back by the policy)")
    written_to: int = Field(description="People you wrote to")
    contacts: int = Field(description="People in this mail who are contacts")
    explanation: str = Field(description="The same, in one sentence")

    @classmethod
    def of(cls, explained: service.Explanation) -> ExplanationOut:
        return cls.model_validate(explained.as_output())


class SenderOut(BaseModel):
    contact_id: int
    address: str
    name: str
    messages: int = Field(description="Messages they sent you through this connection")
    last_on: datetime | None


class PeopleOut(BaseModel):
    connection_id: int
    summary: ExplanationOut
    items: list[SenderOut]
    total: int
    limit: int
    offset: int


class AddIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_ids: list[Annotated[int, Field(ge=1, le=JSON_INT_MAX)]] = Field(
        min_length=1, max_length=500, description="People to add as contacts (from `items`)"
    )


class AddedOut(BaseModel):
    added: list[int] = Field(description="The people now contacts (kept whatever the policy)")


@router.get(
    "/connections/{connection_id}/people",
    response_model=PeopleOut,
    summary="Why this mail made no contacts, and the people who wrote to you and are not contacts",
)
async def people(
    connection_id: ConnectionId,
    state: State,
    account: CurrentAccount,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PeopleOut:
    found = await service.people(state.pool, account.id, connection_id, limit=limit, offset=offset)
    return PeopleOut(
        connection_id=connection_id,
        summary=ExplanationOut.of(found.explanation),
        items=[SenderOut.model_validate(s, from_attributes=True) for s in found.page.items],
        total=found.page.total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/connections/{connection_id}/people",
    response_model=AddedOut,
    summary="Add people who wrote to you as contacts (all or none)",
)
async def add_people(
    connection_id: ConnectionId, body: AddIn, state: State, account: CurrentAccount
) -> AddedOut:
    added = await service.add_people(
        state.pool, state.queue, state.settings, account.id, connection_id, body.contact_ids
    )
    return AddedOut(added=added)
