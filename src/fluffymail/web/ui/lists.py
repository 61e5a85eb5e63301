"""The lists pages: every list you can see (and a new one), one list as a page (a saved view's
filter applied to your contacts, or a static list's members) with its settings, and the bulk
actions of the contacts list that are not tags (add to a list, hide, export as CSV)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import WebError
from fluffymail.web.services import contacts as contacts_service
from fluffymail.web.services import corrections, export
from fluffymail.web.services import lists as service
from fluffymail.web.services import tags as tags_service
from fluffymail.web.ui.contacts import SORTS

router = APIRouter()
PAGE_SIZE = 50
ListId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
FormName = Annotated[str, Form(max_length=200)]
FormFilter = Annotated[str, Form(max_length=2000)]
COLUMN_NAMES = {
    "company": "Company",
    "strength": "Strength",
    "trend": "Trend",
    "last_interaction": "Last interaction",
    "sent": "You sent",
    "received": "They sent",
}


@router.get("/lists")
async def lists_page(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    context = {
        "session": session,
        "lists": await service.all_lists(state.pool, session.account.id),
        "sorts": SORTS,
        "active": "lists",
    }
    return templates.TemplateResponse(request, "lists.html", context)


def _fields(name: str, filter_text: str, sort: str, shared: str, columns: list[str]):
    return service.ListFields(
        name=name,
        filter=filter_text,
        sort=sort or "strength",
        columns=[c for c in columns if c] or None,
        shared=bool(shared),
    )


@router.post("/lists")
async def create_list(
    state: State,
    session: PageSession,
    name: FormName = "",
    filter: FormFilter = "",
    sort: Annotated[str, Form(max_length=40)] = "",
    shared: Annotated[str, Form(max_length=5)] = "",
    kind: Annotated[str, Form(max_length=10)] = "view",
    columns: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006
) -> Response:
    if kind not in ("view", "static"):
        raise WebError("A list is a saved view or a static list.")
    fields = _fields(name, filter, sort, shared, columns)
    made = await service.create_list(state.pool, session.account.id, kind, fields)  # type: ignore[arg-type]
    return RedirectResponse(f"/lists/{made.id}", status_code=303)


@router.get("/lists/{list_id}")
async def list_page(
    list_id: ListId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    user_id = session.account.id
    opened, page = await service.contacts(
        state.pool, user_id, list_id, limit=PAGE_SIZE, offset=offset
    )
    all_tags = await tags_service.list_tags(state.pool, user_id)
    context = {
        "session": session,
        "l": opened.list,
        "problems": opened.problems,
        "page": page,
        "query": opened.query,
        "columns": opened.list.columns,
        "column_names": COLUMN_NAMES,
        "sorts": SORTS,
        "tags": await tags_service.tags_of_contacts(
            state.pool, user_id, [c.id for c in page.items]
        ),
        "filter_tag": next((t for t in all_tags if t.id == opened.query.tag_id), None),
        "bulk_back": "",
        "activity": await service.history(state.pool, user_id, list_id),
        "now": await contacts_service.page_now(state.pool),
        "active": "lists",
        "link": lambda **changes: f"/lists/{list_id}?" + urlencode(changes),
    }
    return templates.TemplateResponse(request, "list.html", context)


@router.post("/lists/{list_id}/edit")
async def edit_list(
    list_id: ListId,
    state: State,
    session: PageSession,
    name: FormName = "",
    filter: FormFilter = "",
    sort: Annotated[str, Form(max_length=40)] = "",
    shared: Annotated[str, Form(max_length=5)] = "",
    columns: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006
) -> Response:
    found = await service.get_list(state.pool, session.account.id, list_id)
    fields = _fields(name, filter, sort, shared, columns)
    if found.kind == "static":  # a static list has no filter and is never shared
        fields = service.ListFields(name=fields.name, sort=fields.sort, columns=fields.columns)
    await service.update_list(state.pool, session.account.id, list_id, fields)
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


@router.post("/lists/{list_id}/delete")
async def delete_list(list_id: ListId, state: State, session: PageSession) -> Response:
    await service.delete_list(state.pool, session.account.id, list_id)
    return RedirectResponse("/lists", status_code=303)


@router.post("/lists/{list_id}/remove")
async def remove_members(
    list_id: ListId,
    state: State,
    session: PageSession,
    contact_ids: Annotated[list[str], Form(max_length=tags_service.BULK_MAX)] = [],  # noqa: B006
) -> Response:
    """Take the ticked contacts off a static list."""
    await service.get_list(state.pool, session.account.id, list_id)
    ids = _ids(contact_ids)
    await service.change_members(state.pool, session.account.id, list_id, ids, add=False)
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


@router.get("/lists/{list_id}/export")
async def export_list(list_id: ListId, state: State, session: PageSession) -> Response:
    """Every contact of the list as CSV, streamed."""
    query = await export.selection(
        state.pool, session.account.id, list_id=list_id, filter_text=None
    )
    return StreamingResponse(
        export.stream_contacts(state.pool, session.account.id, query, "csv"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="list-{list_id}.csv"'},
    )


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _ids(raw: list[str]) -> list[int]:
    ids = []
    for value in raw:
        value = value.strip()
        if not (value.isascii() and value.isdigit() and 0 < int(value) <= BIGINT_MAX):
            raise WebError("The contacts must be ticked in the list.")
        ids.append(int(value))
    if not ids:
        raise WebError("Tick the contacts first.")
    return ids


BulkAction = Literal["add_to_list", "hide", "export"]


async def bulk_action(
    state: State,
    session: PageSession,
    action: BulkAction,
    ids: list[int],
    *,
    list_id: str,
    list_name: str,
    back: str,
) -> Response:
    """The contacts list's bulk actions besides tagging (called by its one bulk form)."""
    user_id = session.account.id
    if action == "export":
        return _csv(await export.contacts_csv(state.pool, user_id, ids), "contacts.csv")
    done: dict[str, object] = {"bulk": action}
    if action == "hide":
        done["bulk_n"] = len(await corrections.set_visibility(state.pool, user_id, ids, "hidden"))
    elif list_id.strip():
        result = await service.change_members(
            state.pool, user_id, _ids([list_id])[0], ids, add=True
        )
        done |= {"bulk_list": result.list.id, "bulk_n": len(result.changed)}
    elif list_name.strip():
        result = await service.add_to_new_list(state.pool, user_id, list_name, ids)
        done |= {"bulk_list": result.list.id, "bulk_n": len(result.changed)}
    else:
        raise WebError("Choose a list, or type a name for a new one.")
    query = back if back.startswith("?") and "\n" not in back and "\\" not in back else ""
    return RedirectResponse(
        f"/contacts{query}{'&' if query else '?'}{urlencode(done)}", status_code=303
    )
