"""The companies pages: the list (strongest relationship first, searchable) and one company with
its people ranked and a roll-up."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import WebError
from fluffymail.web.services import activity, company_merges
from fluffymail.web.services import companies as service
from fluffymail.web.services import contacts as contacts_service
from fluffymail.web.services import notes as notes_service
from fluffymail.web.services import tags as tags_service

router = APIRouter()
PAGE_SIZE = 50


@router.get("/companies")
async def page(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    q: Annotated[str, Query(max_length=200)] = "",
    tag: Annotated[str, Query(max_length=200)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    if tag and not (tag.isascii() and tag.isdigit() and 0 < int(tag) <= BIGINT_MAX):
        raise WebError("The tag filter must be one of the tags in the list.")
    tag_id = int(tag) if tag else None
    user_id = session.account.id
    listing = await service.list_companies(
        state.pool, user_id, q=q, limit=PAGE_SIZE, offset=offset, tag_id=tag_id
    )
    form = {"q": q.strip(), "tag": tag}
    form = {k: v for k, v in form.items() if v}
    tags = await tags_service.tags_of_companies(state.pool, user_id, [c.id for c in listing.items])
    context = {
        "session": session,
        "page": listing,
        "q": q.strip(),
        "tag_id": tag_id,
        "all_tags": await tags_service.list_tags(state.pool, user_id),
        "tags": tags,
        "active": "companies",
        "now": await contacts_service.page_now(state.pool),
        "link": lambda **changes: "/companies?" + urlencode({**form, **changes}),
    }
    return templates.TemplateResponse(request, "companies.html", context)


@router.get("/companies/{company_id}")
async def company(
    company_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    merged: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> Response:
    """The company page; `merged` names a company merge just made (for the notice)."""
    user_id = session.account.id
    detail = await service.get_company(state.pool, user_id, company_id)
    merges = await company_merges.company_merges(state.pool, user_id, company_id)
    context = {
        "session": session,
        "co": detail,
        "tags": await tags_service.company_tags(state.pool, user_id, company_id),
        "all_tags": await tags_service.list_tags(state.pool, user_id),
        "colours": tags_service.COLOURS,
        "notes": await notes_service.list_notes(state.pool, user_id, "company", company_id),
        "activity": await activity.for_subject(state.pool, user_id, ("company", company_id)),
        "merges": merges,
        "just_merged": next((m for m in merges if m["id"] == merged), None),
        "merged_into": next(
            (m for m in merges if m["from_company_id"] == company_id and not m["unmerged_on"]),
            None,
        ),
        "active": "companies",
        "now": await contacts_service.page_now(state.pool),
    }
    return templates.TemplateResponse(request, "company.html", context)
