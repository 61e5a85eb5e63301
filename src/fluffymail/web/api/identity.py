"""`/api/me/identity`: the caller's own addresses (aliases) and the people who send from their
mailbox (delegates), with the evidence for each; confirm or reject an address (its mail is
re-attributed at once and the caller's relationships are rescored)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from fluffymail.web.api.schemas import ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.errors import NotFound, WebError
from fluffymail.web.services import identity as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
router = APIRouter(prefix="/api/me/identity", tags=["account"], responses=ERRORS)
Address = Annotated[
    str, Path(min_length=3, max_length=320, description="The address (as listed), URL-encoded")
]


class IdentityRefused(WebError):
    """The change cannot be made."""

    status, code = 409, "conflict"


class IdentityEntryOut(BaseModel):
    address: str = Field(description="Also the id in the confirm / reject routes")
    display_name: str
    kind: str = Field(description="alias (you) or delegate (someone sending from your mailbox)")
    is_account: bool = Field(description="The account's own address: always you")
    source: str = Field(description="owner, provider, user or sent_folder; empty for a delegate")
    decided_by: str = Field(description="rule, or user (your confirmation or rejection)")
    reason: str
    sent_messages: int = Field(description="Messages from this address in your sent folders")
    sent_total: int = Field(description="All messages in your sent folders when last counted")
    contact_id: int | None = Field(description="The contact behind the address, if any")


class IdentityOut(BaseModel):
    aliases: list[IdentityEntryOut]
    delegates: list[IdentityEntryOut]


class DecisionOut(BaseModel):
    address: str
    kind: str


def _out(entry: service.IdentityEntry) -> IdentityEntryOut:
    return IdentityEntryOut(
        address=entry.address,
        display_name=entry.display_name,
        kind="alias" if entry.is_alias else "delegate",
        is_account=entry.is_account,
        source=entry.source,
        decided_by=entry.decided_by,
        reason=entry.reason,
        sent_messages=entry.sent_messages,
        sent_total=entry.sent_total,
        contact_id=entry.contact_id,
    )


@router.get("", response_model=IdentityOut, summary="Your addresses and delegates, with evidence")
async def get_identity(state: State, account: CurrentAccount) -> IdentityOut:
    found = await service.load(state.pool, account.id)
    return IdentityOut(
        aliases=[_out(e) for e in found.aliases], delegates=[_out(e) for e in found.delegates]
    )


@router.post(
    "/aliases/{address}/confirm",
    response_model=DecisionOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    summary="This address is you: its mail becomes yours",
)
async def confirm(address: Address, state: State, account: CurrentAccount) -> DecisionOut:
    try:
        await service.confirm(
            state.pool, account.id, address, actor=account.email, queue=state.queue
        )
    except service.IdentityRefused as exc:
        raise IdentityRefused(str(exc)) from exc
    except service.AddressNotListed as exc:
        raise NotFound(str(exc)) from exc
    return DecisionOut(address=address.lower(), kind="alias")


@router.post(
    "/aliases/{address}/reject",
    response_model=DecisionOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    summary="This address is someone else: its mail is theirs again (undoes an alias)",
)
async def reject(address: Address, state: State, account: CurrentAccount) -> DecisionOut:
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
        raise IdentityRefused(str(exc)) from exc
    except service.AddressNotListed as exc:
        raise NotFound(str(exc)) from exc
    return DecisionOut(address=address.lower(), kind="delegate")
