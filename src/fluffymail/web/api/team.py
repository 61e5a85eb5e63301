"""Teammates: your workspace, its members and roles, invite links (owners create and revoke
them; anyone with a link joins with it), removing a member or leaving. An owner-only action
by a member answers 403 with the reason; a member or invite of another workspace 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fluffymail.crm.team.models import Role
from fluffymail.web import idempotency
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.idempotency import Idempotent, IdempotentRoute
from fluffymail.web.services import team as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
OWNER_ONLY = {**ERRORS, 403: {"model": ErrorOut}}
FOUND = {**OWNER_ONLY, 404: {"model": ErrorOut}}
LAST_OWNER = {**FOUND, 409: {"model": ErrorOut}}
router = APIRouter(prefix="/api/team", tags=["team"], responses=ERRORS, route_class=IdempotentRoute)
MemberId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The member's user id")]
InviteId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WorkspaceOut(_Out):
    id: int
    name: str
    role: Role = Field(description="Your role in it")


class MemberOut(_Out):
    user_id: int
    email: str
    name: str
    role: Role
    joined_on: datetime


class InviteOut(_Out):
    id: int
    role: Role
    note: str
    created_on: datetime
    expires_on: datetime
    created_by_email: str | None


class NewInviteOut(InviteOut):
    token: str = Field(description="Shown once: only its hash is kept")
    url: str = Field(description="The link to send: whoever opens it first may join")


class TeamOut(BaseModel):
    workspace: WorkspaceOut
    members: list[MemberOut]
    invites: list[InviteOut] = Field(description="Pending invite links (owners only)")


class TeamPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$"
    )


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role = "member"
    note: str = Field(
        "", max_length=200, pattern=r"^[^\x00-\x1f]*$", description="Who it is for, as a reminder"
    )


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")


class AcceptOut(BaseModel):
    workspace: WorkspaceOut
    joined: bool = Field(description="False: you already were a member (the link is unspent)")


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


def invite_url(request: Request, token: str) -> str:
    return str(request.url_for("invite_page", token=token))


@router.get("", response_model=TeamOut, summary="Your workspace, its members and pending invites")
async def get_team(state: State, account: CurrentAccount) -> TeamOut:
    found = await service.team(state.pool, account.id)
    return TeamOut(
        workspace=WorkspaceOut.model_validate(found.workspace),
        members=[MemberOut.model_validate(m) for m in found.members],
        invites=[InviteOut.model_validate(i) for i in found.invites],
    )


@router.patch("", response_model=WorkspaceOut, responses=OWNER_ONLY, summary="Rename (owners)")
async def rename(
    body: Annotated[TeamPatchIn, Body()], state: State, account: CurrentAccount
) -> WorkspaceOut:
    return WorkspaceOut.model_validate(await service.rename(state.pool, account.id, body.name))


@router.post(
    "/invites",
    response_model=NewInviteOut,
    status_code=201,
    responses={**OWNER_ONLY, **idempotency.RESPONSES},
    dependencies=[Idempotent],
    summary="A one-time invite link, live for 7 days (owners)",
)
async def create_invite(
    request: Request, body: Annotated[InviteIn, Body()], state: State, account: CurrentAccount
) -> NewInviteOut:
    made = await service.create_invite(state.pool, account.id, role=body.role, note=body.note)
    fields = InviteOut.model_validate(made.invite).model_dump()
    return NewInviteOut(**fields, token=made.token, url=invite_url(request, made.token))


@router.delete(
    "/invites/{invite_id}", status_code=204, responses=FOUND, summary="Revoke an invite (owners)"
)
async def revoke_invite(invite_id: InviteId, state: State, account: CurrentAccount) -> Response:
    await service.revoke_invite(state.pool, account.id, invite_id)
    return Response(status_code=204)


@router.post(
    "/join",
    response_model=AcceptOut,
    responses={**ERRORS, 404: {"model": ErrorOut}, 410: {"model": ErrorOut}},
    summary="Join a workspace with an invite link's token (410: used or expired)",
)
async def join(
    body: Annotated[AcceptIn, Body()], state: State, account: CurrentAccount
) -> AcceptOut:
    workspace, joined = await service.accept(state.pool, account.id, body.token)
    return AcceptOut(workspace=WorkspaceOut.model_validate(workspace), joined=joined)


@router.patch(
    "/members/{member_id}",
    status_code=204,
    responses=LAST_OWNER,
    summary="Make a member an owner or a member (owners; the last owner stays one)",
)
async def set_role(
    member_id: MemberId, body: Annotated[RoleIn, Body()], state: State, account: CurrentAccount
) -> Response:
    await service.set_role(state.pool, account.id, member_id, body.role)
    return Response(status_code=204)


@router.delete(
    "/members/{member_id}",
    status_code=204,
    responses=LAST_OWNER,
    summary="Remove a member (owners), or leave (your own id); the last owner cannot go",
)
async def remove_member(member_id: MemberId, state: State, account: CurrentAccount) -> Response:
    await service.remove_member(state.pool, account.id, member_id)
    return Response(status_code=204)
