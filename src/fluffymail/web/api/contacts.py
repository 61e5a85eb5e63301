"""Contacts: the ranked list with search, filters and pagination; one contact with its score
explained, stats, summary and enrichment; its timeline; merge and undo.

Every query carries the caller's user id: someone else's contact or merge answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from fluffymail.web.api.contact_schemas import (
    ContactDetailOut,
    ContactItemOut,
    ContactPageOut,
    ContactSort,
    LevelName,
    MergeIn,
    MergeResultOut,
    TimelineItemOut,
    TimelinePageOut,
    UndoOut,
)
from fluffymail.web.api.note_schemas import TagOut
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import contacts as service
from fluffymail.web.services import tags as tags_service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
CONFLICT = {**NOT_FOUND, 409: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["contacts"], responses=ERRORS)
ContactId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
MergeId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
Search = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="Matches names, addresses and company names",
    ),
]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/contacts", response_model=ContactPageOut, summary="Your contacts, strongest first")
async def list_contacts(
    state: State,
    account: CurrentAccount,
    q: Search = None,
    level: Annotated[LevelName | None, Query()] = None,
    company_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    going_cold: Annotated[bool | None, Query(description="Only those going cold (or not)")] = None,
    internal: Annotated[
        bool | None, Query(description="Colleagues (true) or outsiders (false)")
    ] = None,
    tag: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="Only those with this tag (its id)")
    ] = None,
    sort: Annotated[ContactSort, Query()] = ContactSort.STRENGTH,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ContactPageOut:
    query = service.ContactQuery(
        q=q,
        level=level.value if level else None,
        company_id=company_id,
        going_cold=going_cold,
        internal=internal,
        tag_id=tag,
        sort=sort.value,
        limit=limit,
        offset=offset,
    )
    page = await service.list_contacts(state.pool, account.id, query)
    tags = await tags_service.tags_of_contacts(state.pool, account.id, [i.id for i in page.items])
    return ContactPageOut(
        items=[
            ContactItemOut.model_validate(i).model_copy(
                update={"tags": [TagOut.model_validate(t) for t in tags.get(i.id, [])]}
            )
            for i in page.items
        ],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_offset=page.next_offset,
    )


@router.get(
    "/contacts/{contact_id}",
    response_model=ContactDetailOut,
    responses=NOT_FOUND,
    summary="One contact: addresses, enrichment with sources, score with evidence, summary",
)
async def get_contact(
    contact_id: ContactId, state: State, account: CurrentAccount
) -> ContactDetailOut:
    return ContactDetailOut.model_validate(
        await service.get_contact(state.pool, account.id, contact_id)
    )


@router.get(
    "/contacts/{contact_id}/timeline",
    response_model=TimelinePageOut,
    responses=NOT_FOUND,
    summary="The contact's messages, newest first",
)
async def timeline(
    contact_id: ContactId,
    state: State,
    account: CurrentAccount,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TimelinePageOut:
    page = await service.timeline(state.pool, account.id, contact_id, limit=limit, offset=offset)
    return TimelinePageOut(
        items=[TimelineItemOut.model_validate(i) for i in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_offset=page.next_offset,
    )


@router.post(
    "/contacts/{contact_id}/merge",
    response_model=MergeResultOut,
    responses=CONFLICT,
    summary="Merge another of your contacts into this one (undo with the merge id)",
)
async def merge(
    contact_id: ContactId, body: Annotated[MergeIn, Body()], state: State, account: CurrentAccount
) -> MergeResultOut:
    result = await service.merge(
        state.pool,
        account.id,
        into_id=contact_id,
        from_id=body.other_contact_id,
        actor=account.email,
        queue=state.queue,
    )
    return MergeResultOut.model_validate(result)


@router.post(
    "/contacts/merges/{merge_id}/undo",
    response_model=UndoOut,
    responses=CONFLICT,
    summary="Undo a merge: the absorbed contact gets its addresses back",
)
async def undo_merge(merge_id: MergeId, state: State, account: CurrentAccount) -> UndoOut:
    await service.undo_merge(
        state.pool, account.id, merge_id, actor=account.email, queue=state.queue
    )
    return UndoOut(merge_id=merge_id, undone=True)
