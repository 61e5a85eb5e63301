"""Tags of your workspace (list, create, rename, recolour, delete) and tagging contacts and
companies, one at a time or many contacts at once. Someone else's tag, contact or company
answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from fluffymail.web.api.note_schemas import BulkIn, BulkOut, TagIn, TagOut, TagPatchIn
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import tags as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
CONFLICT = {**NOT_FOUND, 409: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["tags"], responses=ERRORS)
TagId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
ContactId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
CompanyId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


@router.get("/tags", response_model=list[TagOut], summary="Your workspace's tags, by name")
async def list_tags(state: State, account: CurrentAccount) -> list[TagOut]:
    return [TagOut.model_validate(t) for t in await service.list_tags(state.pool, account.id)]


@router.post(
    "/tags", response_model=TagOut, status_code=201, responses=CONFLICT, summary="A new tag"
)
async def create_tag(
    body: Annotated[TagIn, Body()], state: State, account: CurrentAccount
) -> TagOut:
    tag = await service.create_tag(state.pool, account.id, body.name, body.colour.value)
    return TagOut.model_validate(tag)


@router.patch(
    "/tags/{tag_id}", response_model=TagOut, responses=CONFLICT, summary="Rename or recolour"
)
async def update_tag(
    tag_id: TagId, body: Annotated[TagPatchIn, Body()], state: State, account: CurrentAccount
) -> TagOut:
    colour = body.colour.value if body.colour else None
    tag = await service.update_tag(state.pool, account.id, tag_id, name=body.name, colour=colour)
    return TagOut.model_validate(tag)


@router.delete(
    "/tags/{tag_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Delete a tag (it comes off everything)",
)
async def delete_tag(tag_id: TagId, state: State, account: CurrentAccount) -> Response:
    await service.delete_tag(state.pool, account.id, tag_id)
    return Response(status_code=204)


@router.put(
    "/contacts/{contact_id}/tags/{tag_id}",
    response_model=list[TagOut],
    responses=NOT_FOUND,
    summary="Tag a contact; answers its tags",
)
async def tag_contact(
    contact_id: ContactId, tag_id: TagId, state: State, account: CurrentAccount
) -> list[TagOut]:
    await service.bulk(state.pool, account.id, "tag", tag_id, [contact_id])
    return await _contact_tags(state, account.id, contact_id)


@router.delete(
    "/contacts/{contact_id}/tags/{tag_id}",
    response_model=list[TagOut],
    responses=NOT_FOUND,
    summary="Untag a contact; answers its tags",
)
async def untag_contact(
    contact_id: ContactId, tag_id: TagId, state: State, account: CurrentAccount
) -> list[TagOut]:
    await service.bulk(state.pool, account.id, "untag", tag_id, [contact_id])
    return await _contact_tags(state, account.id, contact_id)


async def _contact_tags(state: State, user_id: int, contact_id: int) -> list[TagOut]:
    found = await service.contact_tags(state.pool, user_id, contact_id)
    return [TagOut.model_validate(t) for t in found]


@router.post(
    "/contacts/bulk",
    response_model=BulkOut,
    responses=NOT_FOUND,
    summary="Tag or untag many contacts at once: all of them, or none when any is not yours",
)
async def bulk(body: Annotated[BulkIn, Body()], state: State, account: CurrentAccount) -> BulkOut:
    result = await service.bulk(state.pool, account.id, body.action, body.tag_id, body.contact_ids)
    return BulkOut(
        action=result.action,
        tag=TagOut.model_validate(result.tag),
        changed=list(result.changed),
        unchanged=list(result.unchanged),
    )


@router.get(
    "/companies/{company_id}/tags",
    response_model=list[TagOut],
    responses=NOT_FOUND,
    summary="A company's tags",
)
async def company_tags(
    company_id: CompanyId, state: State, account: CurrentAccount
) -> list[TagOut]:
    found = await service.company_tags(state.pool, account.id, company_id)
    return [TagOut.model_validate(t) for t in found]


@router.put(
    "/companies/{company_id}/tags/{tag_id}",
    response_model=list[TagOut],
    responses=NOT_FOUND,
    summary="Tag a company; answers its tags",
)
async def tag_company(
    company_id: CompanyId, tag_id: TagId, state: State, account: CurrentAccount
) -> list[TagOut]:
    await service.set_company_tag(state.pool, account.id, company_id, tag_id, on=True)
    return await company_tags(company_id, state, account)


@router.delete(
    "/companies/{company_id}/tags/{tag_id}",
    response_model=list[TagOut],
    responses=NOT_FOUND,
    summary="Untag a company; answers its tags",
)
async def untag_company(
    company_id: CompanyId, tag_id: TagId, state: State, account: CurrentAccount
) -> list[TagOut]:
    await service.set_company_tag(state.pool, account.id, company_id, tag_id, on=False)
    return await company_tags(company_id, state, account)


@router.get(
    "/contacts/{contact_id}/tags",
    response_model=list[TagOut],
    responses=NOT_FOUND,
    summary="A contact's tags",
)
async def contact_tags(
    contact_id: ContactId, state: State, account: CurrentAccount
) -> list[TagOut]:
    return await _contact_tags(state, account.id, contact_id)
