"""`/api/groups`: your distribution lists and team addresses (never among your top people),
each with the people seen writing to it, and the groups named in headers (`To: Team: a@x;`).
Someone else's group answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import groups as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
router = APIRouter(prefix="/api/groups", tags=["groups"], responses=ERRORS)
GroupId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


class GroupOut(BaseModel):
    id: int
    address: str
    name: str
    reason: str = Field(description="dl_address, group_word_address, group_word_name or fanout")
    last_interaction_on: datetime | None
    messages: int = Field(description="Messages addressed to it in your mail")
    members: int = Field(description="People seen writing to it")


class MemberOut(BaseModel):
    address: str
    name: str
    messages: int = Field(description="Messages they wrote to the group")
    contact_id: int | None


class NamedGroupOut(BaseModel):
    name: str = Field(description="The group's name in the headers (it has no address)")
    messages: int = Field(description="Your messages addressed to it")
    last_seen: datetime | None
    members: list[str] = Field(description="Addresses listed under it")


class GroupDetailOut(BaseModel):
    group: GroupOut
    why: str
    members: list[MemberOut]


def _group(g: service.Group) -> GroupOut:
    return GroupOut(
        id=g.id,
        address=g.address,
        name=g.name,
        reason=g.reason,
        last_interaction_on=g.last_interaction_on,
        messages=g.messages,
        members=g.members,
    )


@router.get("", response_model=list[GroupOut], summary="Your groups, most recent first")
async def list_groups(state: State, account: CurrentAccount) -> list[GroupOut]:
    return [_group(g) for g in await service.list_groups(state.pool, account.id)]


@router.get(
    "/named",
    response_model=list[NamedGroupOut],
    summary="Groups your mail names in its headers (`To: Team: a@x, b@y;`), most recent first",
)
async def named_groups(state: State, account: CurrentAccount) -> list[NamedGroupOut]:
    return [
        NamedGroupOut(name=g.name, messages=g.messages, last_seen=g.last_seen, members=g.members)
        for g in await service.named_groups(state.pool, account.id)
    ]


@router.get(
    "/{group_id}",
    response_model=GroupDetailOut,
    responses={**ERRORS, 404: {"model": ErrorOut}},
    summary="One group with its members",
)
async def get_group(group_id: GroupId, state: State, account: CurrentAccount) -> GroupDetailOut:
    detail = await service.get_group(state.pool, account.id, group_id)
    return GroupDetailOut(
        group=_group(detail.group),
        why=detail.why,
        members=[
            MemberOut(address=m.address, name=m.name, messages=m.messages, contact_id=m.contact_id)
            for m in detail.members
        ],
    )
