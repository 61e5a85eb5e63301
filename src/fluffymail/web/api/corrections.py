"""Corrections by hand: make a contact, rename it, set or clear its company, title and phone,
hide it or mark it not a person, export a selection as CSV; edit a company; preview a contact
or company merge before confirming it, merge companies and undo that. Someone else's contact,
company or merge answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from starlette.responses import Response

from fluffymail.web import idempotency
from fluffymail.web.api.contact_schemas import MergeIn, UndoOut
from fluffymail.web.api.list_schemas import (
    BulkVisibilityIn,
    CompanyMergeIn,
    CompanyMergeOut,
    CompanyMergePreviewOut,
    CompanyPatchIn,
    ContactMergePreviewOut,
    ContactNewIn,
    ContactPatchIn,
    CreatedOut,
    MembersIn,
    VisibilityIn,
    VisibilityOut,
)
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.idempotency import Idempotent, IdempotentRoute
from fluffymail.web.services import company_merges, export, merge_preview
from fluffymail.web.services import corrections as service

ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
CONFLICT = {**NOT_FOUND, 409: {"model": ErrorOut}}
router = APIRouter(
    prefix="/api", tags=["corrections"], responses=ERRORS, route_class=IdempotentRoute
)
ContactId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
CompanyId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
MergeId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


@router.post(
    "/contacts",
    response_model=CreatedOut,
    status_code=201,
    responses={**CONFLICT, **idempotency.RESPONSES},
    dependencies=[Idempotent],
    summary="Make a contact by hand (409 with its id when you have one with that address)",
)
async def create_contact(
    body: Annotated[ContactNewIn, Body()], state: State, account: CurrentAccount
) -> CreatedOut:
    contact_id = await service.create_contact(
        state.pool,
        account.id,
        address=body.address,
        name=body.name,
        company_domain=body.company_domain,
    )
    return CreatedOut(id=contact_id)


@router.patch(
    "/contacts/{contact_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Correct a contact: name, company, title, phone (yours win over extracted ones)",
)
async def edit_contact(
    contact_id: ContactId,
    body: Annotated[ContactPatchIn, Body()],
    state: State,
    account: CurrentAccount,
) -> Response:
    sent = body.model_dump(include=body.model_fields_set)
    await service.edit_contact(state.pool, account.id, contact_id, service.ContactEdit(**sent))
    return Response(status_code=204)


@router.post(
    "/contacts/{contact_id}/visibility",
    response_model=VisibilityOut,
    responses=NOT_FOUND,
    summary="Hide a contact, mark it not a person (a bot, a list), or show it again",
)
async def contact_visibility(
    contact_id: ContactId,
    body: Annotated[VisibilityIn, Body()],
    state: State,
    account: CurrentAccount,
) -> VisibilityOut:
    changed = await service.set_visibility(state.pool, account.id, [contact_id], body.state)
    return VisibilityOut(changed=changed)


@router.post(
    "/contacts/visibility",
    response_model=VisibilityOut,
    responses=NOT_FOUND,
    summary="Hide (or show) many contacts at once: all, or none when any is not yours",
)
async def bulk_visibility(
    body: Annotated[BulkVisibilityIn, Body()], state: State, account: CurrentAccount
) -> VisibilityOut:
    changed = await service.set_visibility(state.pool, account.id, body.contact_ids, body.state)
    return VisibilityOut(changed=changed)


@router.post(
    "/contacts/export",
    response_class=Response,
    responses={**NOT_FOUND, 200: {"content": {"text/csv": {}}}},
    summary="The contacts as CSV",
)
async def export_contacts(
    body: Annotated[MembersIn, Body()], state: State, account: CurrentAccount
) -> Response:
    text = await export.contacts_csv(state.pool, account.id, body.contact_ids)
    return csv_response(text)


def csv_response(text: str, name: str = "contacts.csv") -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/contacts/{contact_id}/merge/preview",
    response_model=ContactMergePreviewOut,
    responses=CONFLICT,
    summary="What merging another contact into this one would move (nothing changes)",
)
async def preview_contact_merge(
    contact_id: ContactId, body: Annotated[MergeIn, Body()], state: State, account: CurrentAccount
) -> ContactMergePreviewOut:
    found = await merge_preview.contact_merge(
        state.pool, account.id, into_id=contact_id, from_id=body.other_contact_id
    )
    return ContactMergePreviewOut.model_validate(found)


@router.patch(
    "/companies/{company_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Rename a company (kept from signatures) or set its website",
)
async def edit_company(
    company_id: CompanyId,
    body: Annotated[CompanyPatchIn, Body()],
    state: State,
    account: CurrentAccount,
) -> Response:
    website = body.website if "website" in body.model_fields_set else service.UNSET
    await service.edit_company(state.pool, account.id, company_id, name=body.name, website=website)
    return Response(status_code=204)


@router.post(
    "/companies/{company_id}/merge/preview",
    response_model=CompanyMergePreviewOut,
    responses=CONFLICT,
    summary="What merging another company into this one would move (nothing changes)",
)
async def preview_company_merge(
    company_id: CompanyId,
    body: Annotated[CompanyMergeIn, Body()],
    state: State,
    account: CurrentAccount,
) -> CompanyMergePreviewOut:
    found = await merge_preview.company_merge(
        state.pool, account.id, into_id=company_id, from_id=body.other_company_id
    )
    return CompanyMergePreviewOut.model_validate(found)


@router.post(
    "/companies/{company_id}/merge",
    response_model=CompanyMergeOut,
    responses=CONFLICT,
    summary="Merge another company into this one: its people, notes and tags move (undo with"
    " the merge id)",
)
async def merge_companies(
    company_id: CompanyId,
    body: Annotated[CompanyMergeIn, Body()],
    state: State,
    account: CurrentAccount,
) -> CompanyMergeOut:
    result = await company_merges.merge_companies(
        state.pool,
        account.id,
        into_id=company_id,
        from_id=body.other_company_id,
        actor=account.email,
    )
    return CompanyMergeOut.model_validate(result)


@router.post(
    "/companies/merges/{company_merge_id}/undo",
    response_model=UndoOut,
    responses=CONFLICT,
    summary="Undo a company merge: the absorbed company gets its people back",
)
async def undo_company_merge(
    company_merge_id: MergeId, state: State, account: CurrentAccount
) -> UndoOut:
    await company_merges.undo_company_merge(
        state.pool, account.id, company_merge_id, actor=account.email
    )
    return UndoOut(merge_id=company_merge_id, undone=True)
