"""Lists of contacts: saved views (a named filter, sort and columns; private or shared with the
workspace) and static lists, with their contacts. A list you may not see answers 404; only its
owner changes it (403 for the rest of the workspace)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from fluffymail.web import idempotency
from fluffymail.web.api.contact_schemas import ContactItemOut, ContactPageOut
from fluffymail.web.api.list_schemas import (
    ListIn,
    ListOut,
    ListPatchIn,
    MembersIn,
    MembersOut,
)
from fluffymail.web.api.note_schemas import ActivityOut, TagOut
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.idempotency import Idempotent, IdempotentRoute
from fluffymail.web.services import lists as service
from fluffymail.web.services import tags as tags_service

ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
OWNER = {**NOT_FOUND, 403: {"model": ErrorOut}, 409: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["lists"], responses=ERRORS, route_class=IdempotentRoute)
ListId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


def _out(found: service.ContactList) -> ListOut:
    return ListOut.model_validate(found)


@router.get("/lists", response_model=list[ListOut], summary="Your lists and those shared with you")
async def all_lists(state: State, account: CurrentAccount) -> list[ListOut]:
    return [_out(found) for found in await service.all_lists(state.pool, account.id)]


@router.post(
    "/lists",
    response_model=ListOut,
    status_code=201,
    responses={**OWNER, **idempotency.RESPONSES},
    dependencies=[Idempotent],
    summary="A list",
)
async def create_list(
    body: Annotated[ListIn, Body()], state: State, account: CurrentAccount
) -> ListOut:
    fields = service.ListFields(
        name=body.name,
        filter=body.filter,
        sort=body.sort,
        columns=body.columns or [],
        shared=body.shared,
    )
    return _out(await service.create_list(state.pool, account.id, body.kind, fields))


@router.get("/lists/{list_id}", response_model=ListOut, responses=NOT_FOUND, summary="One list")
async def get_list(list_id: ListId, state: State, account: CurrentAccount) -> ListOut:
    return _out(await service.get_list(state.pool, account.id, list_id))


@router.patch(
    "/lists/{list_id}", response_model=ListOut, responses=OWNER, summary="Change your list"
)
async def update_list(
    list_id: ListId, body: Annotated[ListPatchIn, Body()], state: State, account: CurrentAccount
) -> ListOut:
    fields = service.ListFields(**body.model_dump(exclude_unset=True))
    return _out(await service.update_list(state.pool, account.id, list_id, fields))


@router.delete("/lists/{list_id}", status_code=204, responses=OWNER, summary="Delete your list")
async def delete_list(list_id: ListId, state: State, account: CurrentAccount) -> Response:
    await service.delete_list(state.pool, account.id, list_id)
    return Response(status_code=204)


@router.get(
    "/lists/{list_id}/activity",
    response_model=list[ActivityOut],
    responses=NOT_FOUND,
    summary="Who made and changed the list, newest first",
)
async def list_activity(
    list_id: ListId, state: State, account: CurrentAccount
) -> list[ActivityOut]:
    found = await service.history(state.pool, account.id, list_id)
    return [ActivityOut.model_validate(e) for e in found]


@router.get(
    "/lists/{list_id}/contacts",
    response_model=ContactPageOut,
    responses=NOT_FOUND,
    summary="The list's contacts (a view's filter applied to your contacts), in its sort",
)
async def list_contacts(
    list_id: ListId,
    state: State,
    account: CurrentAccount,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ContactPageOut:
    _, page = await service.contacts(state.pool, account.id, list_id, limit=limit, offset=offset)
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


async def _members(
    state: State, user_id: int, list_id: int, body: MembersIn, *, add: bool
) -> MembersOut:
    result = await service.change_members(state.pool, user_id, list_id, body.contact_ids, add=add)
    return MembersOut(
        list=_out(result.list), changed=list(result.changed), unchanged=list(result.unchanged)
    )


@router.post(
    "/lists/{list_id}/contacts",
    response_model=MembersOut,
    responses=OWNER,
    summary="Put contacts on your static list: all of them, or none when any is not yours, was"
    " merged away (409 naming the contact each joined) or is not shown (400: hidden, not a"
    " person, not a contact yet, a group)",
)
async def add_members(
    list_id: ListId, body: Annotated[MembersIn, Body()], state: State, account: CurrentAccount
) -> MembersOut:
    return await _members(state, account.id, list_id, body, add=True)


@router.post(
    "/lists/{list_id}/contacts/remove",
    response_model=MembersOut,
    responses=OWNER,
    summary="Take contacts off your static list",
)
async def remove_members(
    list_id: ListId, body: Annotated[MembersIn, Body()], state: State, account: CurrentAccount
) -> MembersOut:
    return await _members(state, account.id, list_id, body, add=False)
