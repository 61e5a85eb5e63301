"""Notes on contacts and companies (write, list, edit, delete) and their activity logs.

Every query carries the caller's user id and workspace: someone else's note, contact or
company answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Response

from fluffymail.web import idempotency
from fluffymail.web.api.note_schemas import ActivityOut, NoteIn, NoteOut
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.idempotency import Idempotent, IdempotentRoute
from fluffymail.web.services import activity
from fluffymail.web.services import notes as service
from fluffymail.web.services.notes import SubjectKind

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["notes"], responses=NOT_FOUND, route_class=IdempotentRoute)
NoteId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description="The note's ETag as you read it: the change is made only while the note is "
        "still at that version, else 412 and nothing changes (another tab or app saved it).",
    ),
]
CHANGED = {412: {"model": ErrorOut, "description": "The note changed since that ETag"}}


def _out(note: service.Note, response: Response) -> NoteOut:
    """The note, with its version as the answer's ETag (for If-Match on a later change)."""
    response.headers["ETag"] = note.version
    return NoteOut.model_validate(note)


SUBJECT_NOUN: dict[SubjectKind, tuple[str, str]] = {
    "contact": ("contacts", "the contact"),
    "company": ("companies", "the company"),
}
LIST_SUMMARY = {
    "contact": "Notes about the contact or mentioning it, newest first",
    "company": "Notes about the company, newest first",
}


def _subject_routes(kind: SubjectKind) -> None:
    """The note and activity routes of one subject kind: /contacts/{contact_id}/notes, …"""
    base, noun = SUBJECT_NOUN[kind]
    param = f"{kind}_id"
    # A default, not an annotation: annotations are strings resolved in the module's globals.
    subject_path = Path(ge=1, le=BIGINT_MAX, alias=param)

    @router.get(
        f"/{base}/{{{param}}}/notes", response_model=list[NoteOut], summary=LIST_SUMMARY[kind]
    )
    async def notes(
        state: State, account: CurrentAccount, subject_id: int = subject_path
    ) -> list[NoteOut]:
        found = await service.list_notes(state.pool, account.id, kind, subject_id)
        return [NoteOut.model_validate(n) for n in found]

    @router.post(
        f"/{base}/{{{param}}}/notes",
        response_model=NoteOut,
        status_code=201,
        responses={**NOT_FOUND, **idempotency.RESPONSES},
        dependencies=[Idempotent],
        summary=f"Write a note about {noun} (Markdown; `@Name` links the contacts it mentions)",
    )
    async def add_note(
        body: Annotated[NoteIn, Body()],
        state: State,
        account: CurrentAccount,
        response: Response,
        subject_id: int = subject_path,
    ) -> NoteOut:
        note = await service.add_note(state.pool, account.id, kind, subject_id, body.body)
        return _out(note, response)

    @router.get(
        f"/{base}/{{{param}}}/activity",
        response_model=list[ActivityOut],
        summary=f"Who changed what on {noun} (notes, tags, edits, merges), newest first",
    )
    async def subject_activity(
        state: State, account: CurrentAccount, subject_id: int = subject_path
    ) -> list[ActivityOut]:
        async with state.pool.connection() as conn:
            await service.require_subject(conn, account.id, kind, subject_id)
        found = await activity.for_subject(state.pool, account.id, (kind, subject_id))
        return [ActivityOut.model_validate(e) for e in found]


for _kind in SUBJECT_NOUN:
    _subject_routes(_kind)


@router.get("/notes/{note_id}", response_model=NoteOut, summary="One note (with its ETag)")
async def get_note(
    note_id: NoteId, state: State, account: CurrentAccount, response: Response
) -> NoteOut:
    return _out(await service.get_note(state.pool, account.id, note_id), response)


@router.patch(
    "/notes/{note_id}",
    response_model=NoteOut,
    responses=CHANGED,
    summary="Change a note's text (with If-Match: only if no one changed it since)",
)
async def edit_note(
    note_id: NoteId,
    body: Annotated[NoteIn, Body()],
    state: State,
    account: CurrentAccount,
    response: Response,
    if_match: IfMatch = None,
) -> NoteOut:
    note = await service.edit_note(state.pool, account.id, note_id, body.body, expected=if_match)
    return _out(note, response)


@router.delete(
    "/notes/{note_id}",
    status_code=204,
    responses=CHANGED,
    summary="Delete a note (with If-Match: only if no one changed it since)",
)
async def delete_note(
    note_id: NoteId, state: State, account: CurrentAccount, if_match: IfMatch = None
) -> Response:
    await service.delete_note(state.pool, account.id, note_id, expected=if_match)
    return Response(status_code=204)
