"""Lists of contacts as the web app keeps them: saved views (a filter, a sort and the columns
shown; private or shared with the workspace) and static lists (contacts put on them by hand or
from a selection). Every change is logged in the activity log in its own transaction.

A list the caller may not see (another user's private one, another workspace's) looks exactly
like a missing one; only its owner changes or deletes a list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm import text as text_rules
from fluffymail.crm.activity import repo as activity_repo
from fluffymail.crm.lists import filters
from fluffymail.crm.lists import repo as lists_repo
from fluffymail.crm.tags import repo as tags_repo
from fluffymail.errors import FluffyMailError
from fluffymail.web.services import activity, live_contacts
from fluffymail.web.services import contacts as contacts_service
from fluffymail.web.services.contacts import ContactQuery
from fluffymail.web.services.messages import Conn, fetch_one

ContactList = lists_repo.ContactList
ListFields = lists_repo.ListFields
NAME_MAX = 80
SORTS = ("strength", "last_interaction", "name", "tag")
COLUMNS = ("company", "strength", "trend", "last_interaction", "sent", "received")
"""The columns a list may show besides the name (all of them when none are chosen)."""


class ListNotFound(FluffyMailError):
    """No such list."""


class ListRefused(FluffyMailError):
    """The list cannot be saved."""


class ListForbidden(FluffyMailError):
    """Only the list's owner can change it."""


class ListConflict(FluffyMailError):
    """You already have a list by that name."""


UNSHOWN_NAMED = 10  # contacts a refusal's message names (its details list them all)
WHY_UNSHOWN: dict[lists_repo.Hidden, str] = {
    "hidden": "is hidden (show it again first)",
    "not_person": "is marked not a person",
    "group": "is a group (see Groups)",
    "self": "is your own address",
    "kept_out": "is kept out of your contacts by FluffyMail",
    "held_back": "is not a contact yet (add it first: “See who wrote” on Connections)",
}


class MembersRefused(ListRefused):
    """A list holds only the contacts its page shows (QA: hidden, not-a-person and held-back
    contacts were answered "changed" and then never shown). Nothing is put on it; `details`
    names each contact refused and why, for the API."""

    def __init__(self, unshown: Sequence[lists_repo.Unshown]) -> None:
        named = "; ".join(
            f"contact {u.id} ({u.label}) {WHY_UNSHOWN[u.why]}" for u in unshown[:UNSHOWN_NAMED]
        )
        more = f"; and {len(unshown) - UNSHOWN_NAMED} more" if len(unshown) > UNSHOWN_NAMED else ""
        super().__init__(
            f"a list holds only the contacts it shows; nothing was added: {named}{more}"
        )
        self.details = [{"contact_id": u.id, "reason": u.why} for u in unshown]


def check(kind: str, fields: ListFields, *, creating: bool) -> ListFields:
    """The fields cleaned, or `ListRefused` / `filters.FilterError` saying what is wrong."""
    name = fields.name
    if name is not None or creating:
        name = text_rules.clean_name(name or "")
        if not name:
            raise ListRefused("a list needs a name")
        if len(name) > NAME_MAX:
            raise ListRefused(f"a list's name can be at most {NAME_MAX} characters")
    if fields.filter is not None:
        if kind == "static" and fields.filter.strip():
            raise ListRefused("a static list holds chosen contacts; it has no filter")
        filters.parse(fields.filter)
    if fields.sort is not None and fields.sort not in SORTS:
        raise ListRefused(f"the sort must be one of {', '.join(SORTS)}")
    if fields.columns is not None and (unknown := set(fields.columns) - set(COLUMNS)):
        raise ListRefused(f"unknown columns {', '.join(sorted(unknown))}; use {', '.join(COLUMNS)}")
    if fields.shared and kind == "static":
        raise ListRefused("a static list holds your own contacts; only saved views are shared")
    columns = [c for c in COLUMNS if c in fields.columns] if fields.columns is not None else None
    return ListFields(
        name=name,
        filter=fields.filter.strip() if fields.filter is not None else None,
        sort=fields.sort,
        columns=columns,
        shared=fields.shared,
    )


async def all_lists(pool: AsyncConnectionPool, user_id: int) -> list[ContactList]:
    async with pool.connection() as conn:
        return await lists_repo.visible(conn, user_id)


async def get_list(pool: AsyncConnectionPool, user_id: int, list_id: int) -> ContactList:
    async with pool.connection() as conn:
        return await _visible(conn, user_id, list_id)


async def _visible(conn: Conn, user_id: int, list_id: int) -> ContactList:
    found = await lists_repo.get(conn, user_id, list_id)
    if found is None:
        raise ListNotFound(f"no list {list_id}")
    return found


async def _owned(conn: Conn, user_id: int, list_id: int) -> ContactList:
    found = await _visible(conn, user_id, list_id)
    if found.owner_id != user_id:
        raise ListForbidden(f"only {found.owner} can change the list “{found.name}”")
    return found


async def create_list(
    pool: AsyncConnectionPool, user_id: int, kind: lists_repo.Kind, fields: ListFields
) -> ContactList:
    fields = check(kind, fields, creating=True)
    async with pool.connection() as conn, conn.transaction():
        workspace_id = await activity.workspace_of(conn, user_id)
        try:
            list_id = await lists_repo.create(conn, workspace_id, user_id, kind, fields)
        except lists_repo.DuplicateName:
            raise ListConflict(f"you already have a list called “{fields.name}”") from None
        await activity.log(conn, user_id, ("list", list_id), "list.created", name=fields.name)
        return await _visible(conn, user_id, list_id)


async def update_list(
    pool: AsyncConnectionPool, user_id: int, list_id: int, fields: ListFields
) -> ContactList:
    async with pool.connection() as conn, conn.transaction():
        before = await _owned(conn, user_id, list_id)
        fields = check(before.kind, fields, creating=False)
        try:
            await lists_repo.update(conn, user_id, list_id, fields)
        except lists_repo.DuplicateName:
            raise ListConflict(f"you already have a list called “{fields.name}”") from None
        after = await _visible(conn, user_id, list_id)
        changed = {
            k: getattr(after, k)
            for k in ("name", "filter", "sort", "columns", "shared")
            if getattr(after, k) != getattr(before, k)
        }
        if changed:
            await activity.log(conn, user_id, ("list", list_id), "list.changed", **changed)
        return after


async def follow_tag_rename(
    conn: Conn, user_id: int, workspace_id: int, old: str, new: str
) -> list[int]:
    """Make every saved view of the workspace that filters on the tag `old` name it `new`
    instead, in the caller's transaction (the rename's): every member's view, shared or not,
    since each finds its tag by name among the workspace's. Only the `tag:` term changes (a
    free word "Investors" is a search); each view changed is logged as changed by the user.
    The ids of the views changed."""
    changed: list[int] = []
    for list_id, text in await lists_repo.views_naming_tags(conn, workspace_id):
        renamed = filters.rename_tag(text, old, new)
        if renamed is None or renamed == text:
            continue
        await lists_repo.set_view_filter(conn, list_id, renamed)
        await activity.log(conn, user_id, ("list", list_id), "list.changed", filter=renamed)
        changed.append(list_id)
    return changed


async def delete_list(pool: AsyncConnectionPool, user_id: int, list_id: int) -> ContactList:
    async with pool.connection() as conn, conn.transaction():
        found = await _owned(conn, user_id, list_id)
        members = await lists_repo.members_of(conn, list_id)
        await lists_repo.delete(conn, user_id, list_id)
        await activity.log(conn, user_id, ("list", list_id), "list.deleted", name=found.name)
        await activity.log_many(  # each member's history says it came off the list
            conn,
            user_id,
            [("contact", contact_id) for contact_id in members],
            "list.removed",
            list_id=list_id,
            list=found.name,
            deleted=True,
        )
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    """A list opened for its viewer: the contacts query it means, and what could not be
    resolved (a deleted tag, a company the viewer does not have) — those match nothing."""

    list: ContactList
    query: ContactQuery
    problems: tuple[str, ...]


async def open_list(
    pool: AsyncConnectionPool, user_id: int, list_id: int, *, limit: int, offset: int
) -> Opened:
    async with pool.connection() as conn:
        found = await _visible(conn, user_id, list_id)
        if found.kind == "static":
            query = ContactQuery(list_id=found.id, sort=found.sort, limit=limit, offset=offset)
            return Opened(list=found, query=query, problems=())
        return await _resolve(conn, user_id, found, limit=limit, offset=offset)


async def _resolve(
    conn: Conn, user_id: int, found: ContactList, *, limit: int, offset: int
) -> Opened:
    query, problems = await resolve_filter(conn, user_id, found.workspace_id, found.filter)
    query = dataclasses.replace(query, sort=found.sort, limit=limit, offset=offset)
    return Opened(list=found, query=query, problems=problems)


async def resolve_filter(
    conn: Conn, user_id: int, workspace_id: int, text: str
) -> tuple[ContactQuery, tuple[str, ...]]:
    """The contacts query a filter means for the user (`FilterError` when it does not parse),
    and what could not be resolved (a deleted tag, a company the user does not have): those
    match nothing."""
    parsed = filters.parse(text)
    problems: list[str] = []
    tag_id = company_id = None
    if parsed.tag:
        tag = await tags_repo.tag_by_name(conn, workspace_id, parsed.tag)
        tag_id = tag.id if tag else 0  # 0: no tag has it, so nothing matches
        if tag is None:
            problems.append(f"there is no tag called “{parsed.tag}” any more")
    if parsed.company:
        row = await fetch_one(
            conn, "company_by_domain", {"user_id": user_id, "domain": parsed.company}
        )
        company_id = row["id"] if row else 0
        if row is None:
            problems.append(f"you know nobody at {parsed.company}")
    query = ContactQuery(
        q=parsed.search,
        level=parsed.level,
        going_cold=parsed.going_cold,
        internal=parsed.internal,
        tag_id=tag_id,
        company_id=company_id,
    )
    return query, tuple(problems)


async def contacts(
    pool: AsyncConnectionPool, user_id: int, list_id: int, *, limit: int, offset: int
) -> tuple[Opened, contacts_service.ContactPage]:
    opened = await open_list(pool, user_id, list_id, limit=limit, offset=offset)
    return opened, await contacts_service.list_contacts(pool, user_id, opened.query)


@dataclass(frozen=True, slots=True, kw_only=True)
class MembersResult:
    list: ContactList
    changed: tuple[int, ...]
    unchanged: tuple[int, ...]


async def change_members(
    pool: AsyncConnectionPool,
    user_id: int,
    list_id: int,
    contact_ids: Sequence[int],
    *,
    add: bool,
) -> MembersResult:
    """Put contacts on the user's static list (or take them off), all or none:
    `ContactNotFound` (and no change) when any is not the user's, `SubjectMerged` when any was
    merged into another; added, `MembersRefused` when any is one the list's page never shows
    (hidden, not a person, a group, not a contact yet). One that becomes hidden once on the
    list stays on it, shown again with the contact."""
    async with pool.connection() as conn, conn.transaction():
        return await _change_members(conn, user_id, list_id, contact_ids, add=add)


async def add_to_new_list(
    pool: AsyncConnectionPool, user_id: int, name: str, contact_ids: Sequence[int]
) -> MembersResult:
    """A new static list holding the contacts, made in one transaction: a refused contact
    leaves no empty list behind."""
    fields = check("static", ListFields(name=name), creating=True)
    async with pool.connection() as conn, conn.transaction():
        workspace_id = await activity.workspace_of(conn, user_id)
        try:
            list_id = await lists_repo.create(conn, workspace_id, user_id, "static", fields)
        except lists_repo.DuplicateName:
            raise ListConflict(f"you already have a list called “{fields.name}”") from None
        await activity.log(conn, user_id, ("list", list_id), "list.created", name=fields.name)
        return await _change_members(conn, user_id, list_id, contact_ids, add=True)


async def _change_members(
    conn: Conn, user_id: int, list_id: int, contact_ids: Sequence[int], *, add: bool
) -> MembersResult:
    wanted = sorted(set(contact_ids))
    if not wanted:
        raise ListRefused("choose the contacts first")
    found = await _owned(conn, user_id, list_id)
    if found.kind != "static":
        raise ListRefused(f"“{found.name}” is a saved view: its filter chooses its contacts")
    await live_contacts.require_live_contacts(conn, user_id, wanted)
    if add and (unshown := await lists_repo.not_shown(conn, wanted)):
        raise MembersRefused(unshown)
    if add:
        changed = await lists_repo.add_members(conn, list_id, user_id, wanted)
    else:
        changed = await lists_repo.remove_members(conn, list_id, wanted)
    verb = "list.added" if add else "list.removed"
    for contact_id in changed:
        await activity.log(
            conn, user_id, ("contact", contact_id), verb, list_id=list_id, list=found.name
        )
    return MembersResult(
        list=await _visible(conn, user_id, list_id),
        changed=tuple(changed),
        unchanged=tuple(i for i in wanted if i not in changed),
    )


async def history(pool: AsyncConnectionPool, user_id: int, list_id: int) -> list[activity.Entry]:
    """Who made and changed the list, newest first (from the list's workspace's log)."""
    async with pool.connection() as conn:
        found = await _visible(conn, user_id, list_id)
        return await activity_repo.for_subject(conn, found.workspace_id, ("list", list_id))


def filter_of(query: ContactQuery, tag_name: str | None, company_domain: str | None) -> str:
    """The filter text that means what the contacts list shows now (to save it as a view)."""
    return filters.render(
        filters.ListFilter(
            search=query.search,
            tag=tag_name,
            level=query.level,
            going_cold=query.going_cold,
            internal=query.internal,
            company=company_domain,
        )
    )
