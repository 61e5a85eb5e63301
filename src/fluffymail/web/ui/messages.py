"""The message pages: the list with mail search and filters (`/messages`), the people who wrote
about a subject (a fragment the contacts list loads) and one message (what score evidence and
summary citations link to), headers and body text, escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import WebError
from fluffymail.web.services import message_search as search
from fluffymail.web.services import messages as service

router = APIRouter()
PAGE_SIZE = 25
Text = Annotated[str, Query(max_length=300)]
SORTS = {"relevance": "Best match", "date": "Newest"}


def _id(value: str, what: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and 0 < int(value) <= BIGINT_MAX):
        raise WebError(f"The {what} filter must be a number, as in its link.")
    return int(value)


def _day(value: str, what: str, *, end: bool = False) -> datetime | None:
    """A date field (YYYY-MM-DD) as the start of that day, UTC; with `end`, of the next day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise WebError(f"The “{what}” date must be a date like 2026-03-01.") from exc
    if end:
        if day == date.max:
            return None
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=UTC)


def _query(
    q: str, sort: str, from_: str, to: str, company: str, since: str, until: str,
    attachment: str, folder: str, after: str,
) -> search.MessageQuery:  # fmt: skip
    """The list query from the filter form's fields (empty = not filtered)."""
    if sort and sort not in SORTS:
        raise WebError("Sort by “Best match” or “Newest”.")
    if after and not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in after):
        raise WebError("That page link is broken; start again from the first page.")
    return search.MessageQuery(
        q=q.strip() or None,
        from_contact=_id(from_, "sender"),
        to_contact=_id(to, "recipient"),
        company=_id(company, "company"),
        since=_day(since, "from"),
        until=_day(until, "to", end=True),
        attachment=True if attachment else None,
        folder=folder or None,
        sort=sort or "relevance",
        limit=PAGE_SIZE,
        after=after or None,
    )


@router.get("/messages")
async def messages(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    q: Text = "",
    sort: Text = "",
    from_contact: Text = "",
    to_contact: Text = "",
    company: Text = "",
    since: Text = "",
    until: Text = "",
    attachment: Text = "",
    folder: Text = "",
    after: Text = "",
) -> Response:
    query = _query(
        q, sort, from_contact, to_contact, company, since, until, attachment, folder, after
    )
    user_id = session.account.id
    page = await search.list_messages(state.pool, user_id, query)
    form = {
        "q": q.strip(),
        "sort": sort,
        "from_contact": from_contact,
        "to_contact": to_contact,
        "company": company,
        "since": since,
        "until": until,
        "attachment": attachment,
        "folder": folder,
    }
    form = {k: v for k, v in form.items() if v}
    context = {
        "session": session,
        "page": page,
        "query": query,
        "form": form,
        "sorts": SORTS,
        "folders": await search.folder_names(state.pool, user_id),
        "active": "messages",
        "link": lambda **changes: "/messages?" + urlencode({**form, **changes}),
        "first_page": bool(after),
        "cap": search.CAP,
    }
    return templates.TemplateResponse(request, "messages.html", context)


@router.get("/messages/people")
async def people_who_wrote(
    request: Request, state: State, templates: Templates, session: PageSession, q: Text = ""
) -> Response:
    """A fragment: the contacts who wrote about `q` (the contacts list shows it under a search)."""
    writers = await search.writers(state.pool, session.account.id, q.strip()) if q.strip() else []
    context = {"session": session, "writers": writers, "q": q.strip()}
    return templates.TemplateResponse(request, "partials/message_writers.html", context)


@router.get("/messages/{message_id}")
async def message(
    message_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    view = await service.get_message(state.pool, session.account.id, message_id)
    context = {"session": session, "m": view, "active": "messages"}
    return templates.TemplateResponse(request, "message.html", context)
