"""Notes on contacts and companies (write, list, edit, delete) and their activity logs.

Every query carries the caller's user id and workspace: someone else's note, contact or
company answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from fluffymail.web.api.note_schemas import ActivityOut, NoteIn, NoteOut
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import activity
from fluffymail.web.services import notes as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["notes"], responses=NOT_FOUND)
ContactId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
CompanyId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
NoteId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


@router.get(
    "/contacts/{contact_id}/notes",
    response_model=list[NoteOut],
    summary="Notes about the contact or mentioning it, newest first",
)
async def contact_notes(
    contact_id: ContactId, state: State, account: CurrentAccount
) -> list[NoteOut]:
    found = await service.list_notes(state.pool, account.id, "contact", contact_id)
    return [NoteOut.model_validate(n) for n in found]


@router.post(
    "/contacts/{contact_id}/notes",
    response_model=NoteOut,
    status_code=201,
    summary="Write a note about the contact (Markdown; `@Name` links the contacts it mentions)",
)
async def add_contact_note(
    contact_id: ContactId, body: Annotated[NoteIn, Body()], state: State, account: CurrentAccount
) -> NoteOut:
    note = await service.add_note(state.pool, account.id, "contact", contact_id, body.body)
    return NoteOut.model_validate(note)


@router.get(
    "/companies/{company_id}/notes",
    response_model=list[NoteOut],
    summary="Notes about the company, newest first",
)
async def company_notes(
    company_id: CompanyId, state: State, account: CurrentAccount
) -> list[NoteOut]:
    found = await service.list_notes(state.pool, account.id, "company", company_id)
    return [NoteOut.model_validate(n) for n in found]


@router.post(
    "/companies/{company_id}/notes",
    response_model=NoteOut,
    status_code=201,
    summary="Write a note about the company",
)
async def add_company_note(
    company_id: CompanyId, body: Annotated[NoteIn, Body()], state: State, account: CurrentAccount
) -> NoteOut:
    note = await service.add_note(state.pool, account.id, "company", company_id, body.body)
    return NoteOut.model_validate(note)


@router.get("/notes/{note_id}", response_model=NoteOut, summary="One note")
async def get_note(note_id: NoteId, state: State, account: CurrentAccount) -> NoteOut:
    return NoteOut.model_validate(await service.get_note(state.pool, account.id, note_id))


@router.patch("/notes/{note_id}", response_model=NoteOut, summary="Change a note's text")
async def edit_note(
    note_id: NoteId, body: Annotated[NoteIn, Body()], state: State, account: CurrentAccount
) -> NoteOut:
    note = await service.edit_note(state.pool, account.id, note_id, body.body)
    return NoteOut.model_validate(note)


@router.delete("/notes/{note_id}", status_code=204, summary="Delete a note")
async def delete_note(note_id: NoteId, state: State, account: CurrentAccount) -> Response:
    await service.delete_note(state.pool, account.id, note_id)
    return Response(status_code=204)


@router.get(
    "/contacts/{contact_id}/activity",
    response_model=list[ActivityOut],
    summary="Who changed what on the contact (notes, tags, merges), newest first",
)
async def contact_activity(
    contact_id: ContactId, state: State, account: CurrentAccount
) -> list[ActivityOut]:
    async with state.pool.connection() as conn:
        await service.require_subject(conn, account.id, "contact", contact_id)
    found = await activity.for_subject(state.pool, account.id, ("contact", contact_id))
    return [ActivityOut.model_validate(e) for e in found]


@router.get(
    "/companies/{company_id}/activity",
    response_model=list[ActivityOut],
    summary="Who changed what on the company (notes, tags), newest first",
)
async def company_activity(
    company_id: CompanyId, state: State, account: CurrentAccount
) -> list[ActivityOut]:
    async with state.pool.connection() as conn:
        await service.require_subject(conn, account.id, "company", company_id)
    found = await activity.for_subject(state.pool, account.id, ("company", company_id))
    return [ActivityOut.model_validate(e) for e in found]
