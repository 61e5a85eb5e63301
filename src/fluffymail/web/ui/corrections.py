"""The page forms for corrections by hand: add a contact, correct a contact's name, company,
title and phone, hide it or mark it not a person (or show it again); edit a company; and the
confirmation pages that show both records and what will move before a contact or company
merge. Each form answers with a redirect (post/redirect/get)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import WebError
from fluffymail.web.services import company_merges, merge_preview
from fluffymail.web.services import contacts as contacts_service
from fluffymail.web.services import corrections as service
from fluffymail.web.services import notes as notes_service

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
FormText = Annotated[str, Form(max_length=400)]
OtherId = Annotated[int, Query(ge=0, le=BIGINT_MAX)]
STATES: dict[str, service.HideAs] = {
    "hidden": "hidden",
    "not_person": "not_person",
    "shown": "shown",
}


@router.post("/contacts")
async def create_contact(
    state: State, session: PageSession, address: FormText = "", name: FormText = ""
) -> Response:
    """A contact made by hand; an address already known opens that contact instead."""
    try:
        contact_id = await service.create_contact(
            state.pool, session.account.id, address=address, name=name
        )
    except service.AddressTaken as taken:
        contact_id = taken.contact_id
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


@router.post("/contacts/{contact_id}/edit")
async def edit_contact(
    contact_id: Id,
    state: State,
    session: PageSession,
    name: FormText = "",
    company: FormText = "",
    title: FormText = "",
    phone: FormText = "",
) -> Response:
    """Only what differs from the page is saved, so one correction does not pin the rest."""
    user_id = session.account.id
    detail = await contacts_service.get_contact(state.pool, user_id, contact_id)
    changes: dict[str, object] = {}
    if name.strip() and " ".join(name.split()) != detail.name:
        changes["name"] = name
    if company.strip().lower() != (detail.company.domain if detail.company else ""):
        changes["company_domain"] = company.strip() or None
    for field, value in (("title", title), ("phone", phone)):
        if " ".join(value.split()) != detail.current(field):
            changes[field] = value
    if changes:
        await service.edit_contact(state.pool, user_id, contact_id, service.ContactEdit(**changes))
    return RedirectResponse(f"/contacts/{contact_id}#details-title", status_code=303)


@router.post("/contacts/{contact_id}/visibility")
async def contact_visibility(
    contact_id: Id,
    state: State,
    session: PageSession,
    state_: Annotated[str, Form(alias="state", max_length=20)] = "",
) -> Response:
    await contacts_service.require_contact(state.pool, session.account.id, contact_id)
    if state_ not in STATES:
        raise WebError("Choose to hide the contact, mark it not a person, or show it again.")
    await service.set_visibility(state.pool, session.account.id, [contact_id], STATES[state_])
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


@router.get("/contacts/{contact_id}/merge")
async def confirm_contact_merge(
    contact_id: Id,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    other_contact_id: OtherId = 0,
) -> Response:
    """Both contacts side by side and what moves; the merge happens only on "Merge"."""
    await contacts_service.require_contact(state.pool, session.account.id, contact_id)
    if not other_contact_id:
        raise WebError("Choose the contact to merge from the contact's page.")
    preview = await merge_preview.contact_merge(
        state.pool, session.account.id, into_id=contact_id, from_id=other_contact_id
    )
    context = {"session": session, "p": preview, "active": "contacts"}
    return templates.TemplateResponse(request, "merge_contact.html", context)


@router.post("/companies/{company_id}/edit")
async def edit_company(
    company_id: Id,
    state: State,
    session: PageSession,
    name: FormText = "",
    website: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    await service.edit_company(
        state.pool,
        session.account.id,
        company_id,
        name=name if name.strip() else None,
        website=website.strip() or None,
    )
    return RedirectResponse(f"/companies/{company_id}", status_code=303)


@router.get("/companies/{company_id}/merge")
async def confirm_company_merge(
    company_id: Id,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    domain: Annotated[str, Query(max_length=253)] = "",
) -> Response:
    """Both companies and the people who move; the merge happens only on "Merge"."""
    user_id = session.account.id
    await notes_service.require(state.pool, user_id, "company", company_id)
    if not domain.strip():
        raise WebError("Type the other company's domain, as in acme.com.")
    preview = await merge_preview.company_merge(
        state.pool, user_id, into_id=company_id, from_domain=domain
    )
    context = {"session": session, "p": preview, "active": "companies"}
    return templates.TemplateResponse(request, "merge_company.html", context)


@router.post("/companies/{company_id}/merge")
async def merge_companies(
    company_id: Id,
    state: State,
    session: PageSession,
    other_company_id: Annotated[int, Form(ge=0, le=BIGINT_MAX)] = 0,
) -> Response:
    result = await company_merges.merge_companies(
        state.pool,
        session.account.id,
        into_id=company_id,
        from_id=other_company_id,
        actor=session.account.email,
    )
    return RedirectResponse(f"/companies/{company_id}?merged={result.merge_id}", status_code=303)


@router.post("/companies/merges/{company_merge_id}/undo")
async def undo_company_merge(company_merge_id: Id, state: State, session: PageSession) -> Response:
    result = await company_merges.undo_company_merge(
        state.pool, session.account.id, company_merge_id, actor=session.account.email
    )
    return RedirectResponse(f"/companies/{result.from_company_id}", status_code=303)
