"""The page forms for notes and tags: write, edit and delete a note on a contact or company,
tag and untag one of them, and tag or untag a selection of the contacts list. Each answers
with a redirect back to the page it came from (post/redirect/get)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path
from starlette.responses import RedirectResponse, Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State
from fluffymail.web.errors import WebError
from fluffymail.web.services import notes as notes_service
from fluffymail.web.services import tags as tags_service
from fluffymail.web.ui import lists as lists_ui

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
FormText = Annotated[str, Form(max_length=200_000)]
FormName = Annotated[str, Form(max_length=200)]
FormId = Annotated[str, Form(max_length=20)]
Kind = Literal["contact", "company"]
PAGES: dict[Kind, str] = {"contact": "/contacts", "company": "/companies"}
MENTIONS_SAID = 10
"""At most this many mentions that linked no one are named on the page."""


def _back(kind: Kind, subject_id: int, anchor: str) -> Response:
    return RedirectResponse(f"{PAGES[kind]}/{subject_id}#{anchor}", status_code=303)


def _written(kind: Kind, subject_id: int, note: notes_service.Note) -> Response:
    """Back to the note just written; to the note form saying which mentions linked no one
    (`?mention_ambiguous=@Mike&mention_unknown=@Bob…`), when some did."""
    if not note.unlinked:
        return _back(kind, subject_id, f"note-{note.id}")
    said = [(f"mention_{u.reason}", u.mention) for u in note.unlinked[:MENTIONS_SAID]]
    query = urlencode(said)
    return RedirectResponse(f"{PAGES[kind]}/{subject_id}?{query}#note-form", status_code=303)


def _id(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= BIGINT_MAX:
        raise WebError(f"The {what} must be chosen from the list.")
    return int(value)


@router.post("/contacts/{contact_id}/notes")
async def add_contact_note(
    contact_id: Id, state: State, session: PageSession, body: FormText = ""
) -> Response:
    note = await notes_service.add_note(state.pool, session.account.id, "contact", contact_id, body)
    return _written("contact", contact_id, note)


@router.post("/companies/{company_id}/notes")
async def add_company_note(
    company_id: Id, state: State, session: PageSession, body: FormText = ""
) -> Response:
    note = await notes_service.add_note(state.pool, session.account.id, "company", company_id, body)
    return _written("company", company_id, note)


def _subject(note: notes_service.Note) -> tuple[Kind, int]:
    if note.contact_id is not None:
        return "contact", note.contact_id
    assert note.company_id is not None
    return "company", note.company_id


@router.post("/notes/{note_id}/edit")
async def edit_note(
    note_id: Id, state: State, session: PageSession, body: FormText = "", version: FormName = ""
) -> Response:
    """Save the note's new text, unless it changed since the page showed it (`version`)."""
    note = await notes_service.edit_note(
        state.pool, session.account.id, note_id, body, expected=version or None
    )
    return _written(*_subject(note), note)


@router.post("/notes/{note_id}/delete")
async def delete_note(
    note_id: Id, state: State, session: PageSession, version: FormName = ""
) -> Response:
    note = await notes_service.delete_note(
        state.pool, session.account.id, note_id, expected=version or None
    )
    return _back(*_subject(note), "timeline-title")


def _new_tag(tag_id: int | None, name: str, colour: str) -> tuple[str, str] | None:
    """The new tag to make (name, colour) when none was picked from the list."""
    if tag_id is not None:
        return None
    if not name.strip():
        raise WebError("Choose a tag, or type a name for a new one.")
    return name, colour or "grey"


@router.post("/contacts/{contact_id}/tags")
async def tag_contact(
    contact_id: Id,
    state: State,
    session: PageSession,
    tag_id: FormId = "",
    name: FormName = "",
    colour: FormName = "",
) -> Response:
    chosen = _id(tag_id, "tag")
    await tags_service.bulk(
        state.pool,
        session.account.id,
        "tag",
        chosen,
        [contact_id],
        new_tag=_new_tag(chosen, name, colour),
    )
    return _back("contact", contact_id, "tags")


@router.post("/contacts/{contact_id}/tags/{tag_id}/remove")
async def untag_contact(contact_id: Id, tag_id: Id, state: State, session: PageSession) -> Response:
    await tags_service.bulk(state.pool, session.account.id, "untag", tag_id, [contact_id])
    return _back("contact", contact_id, "tags")


@router.post("/companies/{company_id}/tags")
async def tag_company(
    company_id: Id,
    state: State,
    session: PageSession,
    tag_id: FormId = "",
    name: FormName = "",
    colour: FormName = "",
) -> Response:
    chosen = _id(tag_id, "tag")
    await tags_service.set_company_tag(
        state.pool,
        session.account.id,
        company_id,
        chosen,
        on=True,
        new_tag=_new_tag(chosen, name, colour),
    )
    return _back("company", company_id, "tags")


@router.post("/companies/{company_id}/tags/{tag_id}/remove")
async def untag_company(company_id: Id, tag_id: Id, state: State, session: PageSession) -> Response:
    await tags_service.set_company_tag(state.pool, session.account.id, company_id, tag_id, on=False)
    return _back("company", company_id, "tags")


@router.post("/contacts/bulk")
async def bulk(
    state: State,
    session: PageSession,
    action: Annotated[Literal["tag", "untag", "add_to_list", "hide", "export"], Form()],
    contact_ids: Annotated[list[str], Form(max_length=tags_service.BULK_MAX)] = [],  # noqa: B006
    tag_id: FormId = "",
    name: FormName = "",
    colour: FormName = "",
    list_id: FormId = "",
    list_name: FormName = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Act on the contacts ticked in the list (tag, untag; add to a list, hide, export: see
    ui/lists.py); back to the list as it was filtered."""
    ids = [i for raw in contact_ids if (i := _id(raw, "contact")) is not None]
    if not ids:
        raise WebError("Tick the contacts to act on first.")
    if action in ("add_to_list", "hide", "export"):
        return await lists_ui.bulk_action(
            state, session, action, ids, list_id=list_id, list_name=list_name, back=back
        )
    assert action in ("tag", "untag")
    if action == "untag" and not tag_id.strip():
        raise WebError("Choose the tag to take off.")
    chosen = _id(tag_id, "tag")
    result = await tags_service.bulk(
        state.pool,
        session.account.id,
        action,
        chosen,
        ids,
        new_tag=_new_tag(chosen, name, colour),
    )
    query = back if back.startswith("?") and "\n" not in back and "\\" not in back else ""
    done = urlencode({"bulk": action, "bulk_tag": result.tag.id, "bulk_n": len(result.changed)})
    return RedirectResponse(f"/contacts{query}{'&' if query else '?'}{done}", status_code=303)


@router.post("/tags/{tag_id}/edit")
async def edit_tag(
    tag_id: Id, state: State, session: PageSession, name: FormName = "", colour: FormName = ""
) -> Response:
    """Rename or recolour a tag (from the contacts page's "Manage tags")."""
    await tags_service.update_tag(
        state.pool, session.account.id, tag_id, name=name or None, colour=colour or None
    )
    return RedirectResponse("/contacts#manage-tags", status_code=303)


@router.post("/tags/{tag_id}/delete")
async def delete_tag(tag_id: Id, state: State, session: PageSession) -> Response:
    await tags_service.delete_tag(state.pool, session.account.id, tag_id)
    return RedirectResponse("/contacts#manage-tags", status_code=303)
