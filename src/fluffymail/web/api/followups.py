"""Follow-ups: what is due (the Follow-ups board), done / snooze / dismiss / reopen, a
contact's keep-in-touch cadence (one or many at once), the digest setting and a recompute.
Someone else's follow-up or contact answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from fluffymail.web.api.followup_schemas import (
    BoardOut,
    BulkCadenceIn,
    BulkCadenceOut,
    CadenceIn,
    CadenceOut,
    FollowupOut,
    RecomputeOut,
    SettingsIn,
    SettingsOut,
    SnoozeIn,
)
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import followups as service
from fluffymail.web.services import notes as notes_service

ERRORS = {401: {"model": ErrorOut}, 400: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
CHANGE = {**NOT_FOUND, 409: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["follow-ups"], responses=ERRORS)
FollowupId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
ContactId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


@router.get("/followups", response_model=BoardOut, summary="What is due, coming up, waiting")
async def board(state: State, account: CurrentAccount) -> BoardOut:
    found = await service.board(state.pool, account.id)
    return BoardOut.model_validate(found, from_attributes=True)


@router.post(
    "/followups/recompute", response_model=RecomputeOut, summary="Recompute what is due now"
)
async def recompute(state: State, account: CurrentAccount) -> RecomputeOut:
    return RecomputeOut(open=await service.recompute_now(state.pool, state.queue, account.id))


@router.put("/followups/settings", response_model=SettingsOut, summary="Daily digest on or off")
async def settings(
    body: Annotated[SettingsIn, Body()], state: State, account: CurrentAccount
) -> SettingsOut:
    return SettingsOut(digest=await service.set_digest(state.pool, account.id, body.digest))


@router.get(
    "/followups/{followup_id}", response_model=FollowupOut, responses=NOT_FOUND, summary="One"
)
async def get_followup(
    followup_id: FollowupId, state: State, account: CurrentAccount
) -> FollowupOut:
    return FollowupOut.model_validate(await service.get(state.pool, account.id, followup_id))


@router.post(
    "/followups/{followup_id}/done",
    response_model=FollowupOut,
    responses=CHANGE,
    summary="Done (again: no change; 409 when dismissed or closed by itself)",
)
async def done(followup_id: FollowupId, state: State, account: CurrentAccount) -> FollowupOut:
    found = await service.act(state.pool, state.queue, account.id, followup_id, "done")
    return FollowupOut.model_validate(found)


@router.post(
    "/followups/{followup_id}/dismiss",
    response_model=FollowupOut,
    responses=CHANGE,
    summary="Dismiss (a cadence comes back next round)",
)
async def dismiss(followup_id: FollowupId, state: State, account: CurrentAccount) -> FollowupOut:
    found = await service.act(state.pool, state.queue, account.id, followup_id, "dismiss")
    return FollowupOut.model_validate(found)


@router.post(
    "/followups/{followup_id}/reopen",
    response_model=FollowupOut,
    responses=CHANGE,
    summary="Reopen one done, dismissed or snoozed: open again, due when it was due",
    description="A keep-in-touch round reopened is the contact's current round again: the round"
    " that was opened in its place closes, and it is due as if it had not been marked. Reopening"
    " an open follow-up changes nothing. 409 for one that closed by itself (`resolved`), a"
    " round whose contact has no cadence any more, or a contact merged into another.",
)
async def reopen(followup_id: FollowupId, state: State, account: CurrentAccount) -> FollowupOut:
    found = await service.reopen(state.pool, state.queue, account.id, followup_id)
    return FollowupOut.model_validate(found)


@router.post(
    "/followups/{followup_id}/snooze",
    response_model=FollowupOut,
    responses=CHANGE,
    summary="Snooze to a date, or until they write",
)
async def snooze(
    followup_id: FollowupId,
    body: Annotated[SnoozeIn, Body()],
    state: State,
    account: CurrentAccount,
) -> FollowupOut:
    found = await service.act(
        state.pool,
        state.queue,
        account.id,
        followup_id,
        "snooze",
        until=body.until_time(),
        until_reply=body.until_reply,
    )
    return FollowupOut.model_validate(found)


@router.get(
    "/contacts/{contact_id}/cadence",
    response_model=CadenceOut,
    responses=NOT_FOUND,
    summary="A contact's keep-in-touch cadence",
)
async def get_cadence(contact_id: ContactId, state: State, account: CurrentAccount) -> CadenceOut:
    await notes_service.require(state.pool, account.id, "contact", contact_id)
    days = await service.cadence(state.pool, account.id, contact_id)
    return CadenceOut(contact_id=contact_id, days=days)


@router.put(
    "/contacts/{contact_id}/cadence",
    response_model=CadenceOut,
    responses=CHANGE,  # 409: it was merged into another
    summary="Set or clear (null) a contact's keep-in-touch cadence",
)
async def set_cadence(
    contact_id: ContactId, body: Annotated[CadenceIn, Body()], state: State, account: CurrentAccount
) -> CadenceOut:
    await service.set_cadence(state.pool, state.queue, account.id, [contact_id], body.days)
    return CadenceOut(contact_id=contact_id, days=body.days)


@router.post(
    "/contacts/cadence",
    response_model=BulkCadenceOut,
    responses=CHANGE,
    summary="Set or clear the cadence of many contacts: all, or none when any is not yours or"
    " was merged away (409 naming the contact each joined)",
)
async def bulk_cadence(
    body: Annotated[BulkCadenceIn, Body()], state: State, account: CurrentAccount
) -> BulkCadenceOut:
    changed = await service.set_cadence(
        state.pool, state.queue, account.id, body.contact_ids, body.days
    )
    return BulkCadenceOut(days=body.days, changed=changed)
