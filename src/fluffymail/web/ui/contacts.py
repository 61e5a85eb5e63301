"""The contacts pages: the table ranked by relationship strength (htmx live search and filters),
one contact (score explained, stats with a monthly sparkline, summary, enrichment, timeline,
merge), and merge / undo as plain forms."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.crm.team.models import Workspace
from fluffymail.web.api.contact_schemas import ContactSort, LevelName
from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import WebError
from fluffymail.web.services import activity, corrections, summary_requests
from fluffymail.web.services import contacts as service
from fluffymail.web.services import followups as followups_service
from fluffymail.web.services import lists as lists_service
from fluffymail.web.services import notes as notes_service
from fluffymail.web.services import tags as tags_service
from fluffymail.web.services import team as team_service
from fluffymail.web.ui.charts import sparkline

router = APIRouter()
PAGE_SIZE = 50
TIMELINE_SIZE = 20
CANDIDATES = 8
ContactId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
Text = Annotated[str, Query(max_length=200)]
LEVELS = [level.value for level in LevelName]
SORTS = {
    "strength": "Strength",
    "last_interaction": "Last interaction",
    "name": "Name",
    "tag": "Tag",
}
PEOPLE = {"": "Everyone", "external": "Outside your company", "internal": "Colleagues"}


def _choice(value: str, allowed: list[str] | dict[str, str], what: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        names = list(allowed.values()) if isinstance(allowed, dict) else allowed
        choices = ", ".join(f"“{name}”" for name in names[:-1]) + f" or “{names[-1]}”"
        raise WebError(f"There is no {what} called “{value}”. Choose {choices}.")
    return value


def _query(
    q: str, level: str, sort: str, people: str, cold: str, company: str, offset: int, tag: str = ""
) -> service.ContactQuery:
    """The list query from the filter form's fields (empty = not filtered)."""
    if company and not (company.isascii() and company.isdigit()):
        raise WebError("The company filter must be a company's number, as in its link.")
    if tag and not (tag.isascii() and tag.isdigit() and 0 < int(tag) <= BIGINT_MAX):
        raise WebError("The tag filter must be one of the tags in the list.")
    return service.ContactQuery(
        q=q.strip() or None,
        level=_choice(level, LEVELS, "strength level"),
        sort=_choice(sort, SORTS, "sort order") or ContactSort.STRENGTH.value,
        internal={"internal": True, "external": False}.get(
            _choice(people, PEOPLE, "people filter") or ""
        ),
        going_cold=True if cold else None,
        company_id=int(company) if company else None,
        tag_id=int(tag) if tag else None,
        limit=PAGE_SIZE,
        offset=offset,
    )


def _form_state(query: service.ContactQuery, people: str) -> dict[str, str]:
    fields = {
        "q": query.q or "",
        "level": query.level or "",
        "people": people,
        "cold": "1" if query.going_cold else "",
        "company": str(query.company_id) if query.company_id else "",
        "tag": str(query.tag_id) if query.tag_id else "",
        "sort": "" if query.sort == ContactSort.STRENGTH else query.sort,
    }
    return {k: v for k, v in fields.items() if v}


@dataclass(frozen=True, slots=True)
class _TableReads:
    page: service.ContactPage
    tags: dict[int, list[tags_service.Tag]]
    all_tags: list[tags_service.Tag]
    lists: list[lists_service.ContactList]
    hidden: list[dict[str, Any]]
    now: datetime
    archive_ends: datetime | None
    partial: service.Partial | None
    workspace: Workspace  # its owners manage the tags


async def _table_reads(
    state: State, user_id: int, query: service.ContactQuery, with_hidden: bool
) -> _TableReads:
    """What the table shows, read concurrently on separate pool connections: the page (then its
    contacts' tags), the tag list with counts, the lists, the hidden contacts and the clock are
    independent (one after another they took the sum of their times; bench/crm_scale_bench.py)."""
    pool = state.pool

    async def page_and_tags() -> tuple[service.ContactPage, dict[int, list[tags_service.Tag]]]:
        page = await service.list_contacts(pool, user_id, query)
        ids = [c.id for c in page.items]
        return page, await tags_service.tags_of_contacts(pool, user_id, ids)

    async def hidden() -> list[dict[str, Any]]:
        return await corrections.hidden_contacts(pool, user_id) if with_hidden else []

    # gather, not a TaskGroup: the first error propagates as itself (a DataError stays a 4xx)
    (
        (page, tags),
        all_tags,
        lists,
        hidden_rows,
        now,
        archive_ends,
        partial,
        workspace,
    ) = await asyncio.gather(
        page_and_tags(),
        tags_service.list_tags(pool, user_id),
        lists_service.all_lists(pool, user_id),
        hidden(),
        service.page_now(pool),
        service.archive_end(pool, user_id),
        service.partial_ranking(pool, user_id),
        team_service.my_workspace(pool, user_id),
    )
    return _TableReads(
        page, tags, all_tags, lists, hidden_rows, now, archive_ends, partial, workspace
    )


async def _table(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    template: str,
    query: service.ContactQuery,
    people: str,
    notice: dict[str, object] | None = None,
) -> Response:
    reads = await _table_reads(state, session.account.id, query, template == "contacts.html")
    page, all_tags, lists = reads.page, reads.all_tags, reads.lists
    form = _form_state(query, people)
    filter_tag = next((t for t in all_tags if t.id == query.tag_id), None)
    domain = (
        page.items[0].company.domain
        if query.company_id and page.items and page.items[0].company
        else None
    )
    empty = page.total == 0 and not query.filtered
    setup = await service.setup(state.pool, session.account.id) if empty else None
    context = {
        "session": session,
        "page": page,
        "form": form,
        "levels": LEVELS,
        "sorts": SORTS,
        "people_choices": PEOPLE,
        "query": query,
        "setup": setup,
        "all_tags": all_tags,
        "colours": tags_service.COLOURS,
        "workspace": reads.workspace,
        "tags": reads.tags,
        "filter_tag": filter_tag,
        "hidden": reads.hidden,
        "static_lists": [
            x for x in lists if x.kind == "static" and x.owner_id == session.account.id
        ],
        "save_filter": lists_service.filter_of(
            query, filter_tag.name if filter_tag else None, domain
        ),
        "bulk_back": f"?{urlencode(form)}" if form else "",
        "notice": notice,
        "now": reads.now,
        "archive_ends": reads.archive_ends,
        "partial": reads.partial,
        "active": "contacts",
        "link": lambda **changes: "/contacts?" + urlencode({**form, **changes}),
    }
    response = templates.TemplateResponse(request, template, context)
    if request.headers.get("hx-request"):
        response.headers["HX-Push-Url"] = "/contacts" + (f"?{urlencode(form)}" if form else "")
    return response


@router.get("/contacts")
async def page(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    q: Text = "",
    level: Text = "",
    sort: Text = "",
    people: Text = "",
    cold: Text = "",
    company: Text = "",
    tag: Text = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    bulk: Text = "",
    bulk_tag: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    bulk_n: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    bulk_list: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> Response:
    """The list; `bulk`, `bulk_tag` (or `bulk_list`) and `bulk_n` tell of a bulk action just
    done (the notice)."""
    query = _query(q, level, sort, people, cold, company, offset, tag)
    notice: dict[str, object] | None = None
    if bulk:
        done_list = None
        if bulk_list:
            lists = await lists_service.all_lists(state.pool, session.account.id)
            done_list = next((x for x in lists if x.id == bulk_list), None)
        notice = {"action": bulk, "tag_id": bulk_tag, "count": bulk_n, "list": done_list}
    return await _table(request, state, templates, session, "contacts.html", query, people, notice)


@router.get("/contacts/table")
async def table(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    q: Text = "",
    level: Text = "",
    sort: Text = "",
    people: Text = "",
    cold: Text = "",
    company: Text = "",
    tag: Text = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    query = _query(q, level, sort, people, cold, company, offset, tag)
    return await _table(
        request, state, templates, session, "partials/contacts_table.html", query, people
    )


@router.get("/contacts/{contact_id}")
async def contact(
    contact_id: ContactId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    merged: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    undone: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> Response:
    """The contact page; `merged` / `undone` name a merge just made or undone (for the notice)."""
    user_id = session.account.id
    detail = await service.get_contact(state.pool, user_id, contact_id)
    summary_asked = await summary_requests.on_view(state.pool, state.queue, user_id, contact_id)
    timeline = await notes_service.contact_timeline(
        state.pool, user_id, contact_id, limit=TIMELINE_SIZE, offset=0
    )
    months = detail.relationship.stats.monthly if detail.relationship else ()
    context = {
        "session": session,
        "c": detail,
        "timeline": timeline,
        "tags": await tags_service.contact_tags(state.pool, user_id, contact_id),
        "all_tags": await tags_service.list_tags(state.pool, user_id),
        "colours": tags_service.COLOURS,
        "activity": await activity.for_subject(state.pool, user_id, ("contact", contact_id)),
        "cadence": await followups_service.cadence(state.pool, user_id, contact_id),
        "followups": await followups_service.for_contact(state.pool, user_id, contact_id),
        "closed_followups": await followups_service.closed_for_contact(
            state.pool, user_id, contact_id
        ),
        "active": "contacts",
        "spark": sparkline(months),
        "summary_asked": summary_asked,
        "archive_ends": await service.archive_end(state.pool, user_id),
        "now": await service.page_now(state.pool),
        "just_merged": next((m for m in detail.merges if m.id == merged), None),
        "just_undone": next((m for m in detail.merges if m.id == undone), None),
    }
    return templates.TemplateResponse(request, "contact.html", context)


@router.get("/contacts/{contact_id}/timeline")
async def timeline_page(
    contact_id: ContactId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    timeline = await notes_service.contact_timeline(
        state.pool, session.account.id, contact_id, limit=TIMELINE_SIZE, offset=offset
    )
    context = {
        "session": session,
        "timeline": timeline,
        "contact_id": contact_id,
        "now": await service.page_now(state.pool),
    }
    return templates.TemplateResponse(request, "partials/contact_timeline.html", context)


@router.get("/contacts/{contact_id}/merge-candidates")
async def merge_candidates(
    contact_id: ContactId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    q: Text = "",
) -> Response:
    """Contacts matching `q` that could be merged into this one (live search in the merge form)."""
    await service.require_contact(state.pool, session.account.id, contact_id)
    candidates: list[object] = []
    if q.strip():
        query = service.ContactQuery(q=q, sort=ContactSort.NAME.value, limit=CANDIDATES + 1)
        page = await service.list_contacts(state.pool, session.account.id, query)
        candidates = [item for item in page.items if item.id != contact_id][:CANDIDATES]
    context = {"session": session, "candidates": candidates, "contact_id": contact_id, "q": q}
    return templates.TemplateResponse(request, "partials/contact_merge_candidates.html", context)


@router.post("/contacts/{contact_id}/merge")
async def merge(
    contact_id: ContactId,
    state: State,
    session: PageSession,
    other_contact_id: Annotated[int, Form(ge=1, le=BIGINT_MAX)],
) -> Response:
    result = await service.merge(
        state.pool,
        session.account.id,
        into_id=contact_id,
        from_id=other_contact_id,
        actor=session.account.email,
        queue=state.queue,
    )
    return RedirectResponse(f"/contacts/{contact_id}?merged={result.merge_id}", status_code=303)


@router.post("/contacts/merges/{merge_id}/undo")
async def undo(
    merge_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)], state: State, session: PageSession
) -> Response:
    result = await service.undo_merge(
        state.pool, session.account.id, merge_id, actor=session.account.email, queue=state.queue
    )
    return RedirectResponse(
        f"/contacts/{result.into_contact_id}?undone={merge_id}", status_code=303
    )
