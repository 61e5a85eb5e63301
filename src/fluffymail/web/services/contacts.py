"""A user's contacts as the web app shows them: the ranked list, one contact with everything
known about it (score explained, stats, summary, enrichment with sources), its timeline, and
merges (through `crm.contacts.service`, which owns the merge rules; each merge or undo asks for
a new relationship analysis of the user, through `jobs.analyze_relationships`).

Every query carries the caller's user id: another user's contact looks exactly like a missing one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.relationships import archive, network, partial, summaries
from fluffymail.crm.relationships import figures as figures_mod
from fluffymail.crm.relationships.figures import Figures
from fluffymail.crm.relationships.partial import Partial
from fluffymail.errors import FluffyMailError
from fluffymail.jobs import analyze_relationships
from fluffymail.queue import JobQueue
from fluffymail.web.services import activity, messages
from fluffymail.web.services import contact_views as views
from fluffymail.web.services.messages import Conn, MessageRef, fetch_all, fetch_one
from fluffymail.web.services.paging import Page


class ContactNotFound(FluffyMailError):
    """No such contact."""


class MergeNotFound(FluffyMailError):
    """No such merge."""


class MergeRefused(FluffyMailError):
    """These contacts cannot be merged."""


# The list without a search: one statement per sort, each reading its first page in index order
# (0011_contacts_list.sql); the tag sort (tagged contacts first) sorts every match, narrowly.
# A search finds its matches first and sorts them in memory.
LIST_BY_SORT = {
    "strength": "contact_list_strength",
    "last_interaction": "contact_list_recent",
    "name": "contact_list_name",
    "tag": "contact_list_tag",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactQuery:
    """What the list shows: `q` searches names, addresses and company names."""

    q: str | None = None
    level: str | None = None
    company_id: int | None = None
    going_cold: bool | None = None
    internal: bool | None = None
    tag_id: int | None = None
    list_id: int | None = None  # only the members of this static list
    sort: str = "strength"
    limit: int = 50
    offset: int = 0

    def params(self, user_id: int) -> dict[str, Any]:
        return {
            "user_id": user_id,
            "level": self.level,
            "company_id": self.company_id,
            "going_cold": self.going_cold,
            "internal": self.internal,
            "tag_id": self.tag_id,
            "list_id": self.list_id,
            "sort": self.sort,
            "q": self.search,
            "words": self.words,
            "probe": max(self.words, key=len) if self.words else None,
            "limit": self.limit,
            "offset": self.offset,
            "window": self.offset + self.limit,
        }

    @property
    def search(self) -> str | None:
        return (self.q or "").strip() or None

    @property
    def words(self) -> list[str] | None:
        """The search's words, lower-cased: each must be found, in any order, in the name,
        the company's name or an address ("Fischer Mark" finds Mark Fischer), accents aside
        (the SQL folds both sides with `crm.fold`: "jose" finds José)."""
        found = list(dict.fromkeys((self.search or "").lower().split()))
        return found or None

    @property
    def statement(self) -> str:
        """The `web/sql` statement that reads this page."""
        if self.search:
            return "contact_list_search"
        if self.sort not in LIST_BY_SORT:
            raise ValueError(f"unknown contacts sort {self.sort!r}")
        return LIST_BY_SORT[self.sort]

    @property
    def filtered(self) -> bool:
        return any(
            v is not None
            for v in (
                self.level,
                self.company_id,
                self.going_cold,
                self.internal,
                self.tag_id,
                self.list_id,
            )
        ) or bool(self.search)


ContactPage = Page[views.ContactItem]
TimelinePage = Page[views.TimelineItem]


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeResult:
    merge_id: int
    into_contact_id: int
    from_contact_id: int
    addresses: tuple[str, ...]


async def list_contacts(
    pool: AsyncConnectionPool, user_id: int, query: ContactQuery
) -> ContactPage:
    """One page of the user's visible contacts, filtered and sorted, with the exact total."""
    params = query.params(user_id)
    async with pool.connection() as conn:
        rows = await fetch_all(conn, query.statement, params)
        total = await _total(conn, query, params, rows)
    items = tuple(views.contact_item(row) for row in rows)
    return ContactPage(items=items, total=total, limit=query.limit, offset=query.offset)


async def _total(
    conn: Conn, query: ContactQuery, params: dict[str, Any], rows: list[dict[str, Any]]
) -> int:
    """How many contacts match: known from a page that is not full, else counted.

    The count is exact (about 2 ms at 10,000 contacts, see BENCHMARKS.md); a search's rows
    carry it, the other lists count with `contact_count.sql`.
    """
    if rows and "total" in rows[0]:
        return int(rows[0]["total"])
    if 0 < len(rows) < query.limit or (not rows and query.offset == 0):
        return query.offset + len(rows)
    if query.search:  # past the end of a search: its first row still carries the total
        first = await fetch_all(conn, query.statement, {**params, "limit": 1, "offset": 0})
        return int(first[0]["total"]) if first else 0
    row = await fetch_one(conn, "contact_count", params)
    return int(row["count"]) if row else 0


async def count_past_end(conn: Conn, query: str, params: dict[str, Any], offset: int) -> int:
    """The total when a page came back empty: zero on the first page, else counted."""
    if offset == 0:
        return 0
    row = await fetch_one(conn, query, params)
    return int(row["count"]) if row else 0


async def get_contact(
    pool: AsyncConnectionPool, user_id: int, contact_id: int
) -> views.ContactDetail:
    """Everything the contact page shows; `ContactNotFound` when missing or not the user's."""
    params = {"id": contact_id, "user_id": user_id}
    async with pool.connection() as conn:
        row = await fetch_one(conn, "contact_get", params)
        if row is None:
            raise ContactNotFound(f"no contact {contact_id}")
        parts = views.DetailRows(
            contact=row,
            addresses=await fetch_all(conn, "contact_addresses", params),
            facts=await fetch_all(conn, "contact_facts", params),
            summary=await fetch_one(conn, "contact_summary", params),
            introduction=await fetch_one(conn, "contact_introduction", params),
            merges=await fetch_all(conn, "contact_merges", params),
        )
        refs = await messages.resolve_refs(conn, user_id, parts.cited_ids())
        detail = views.contact_detail(parts, refs, extractive=summaries.EXTRACTIVE)
        paths_in = tuple(await network.best_paths_in(conn, user_id, contact_id=contact_id))
        intros: tuple[network.IntroPath, ...] = ()
        if not detail.updating and wants_introduction(detail.relationship):
            found = await network.warm_intro_paths(conn, user_id, detail.primary_address, limit=3)
            intros = tuple(p for p in found if p.strength >= 1)
        connectors = await figures_of(conn, user_id, [p.connector_contact_id for p in intros])
    return dataclasses.replace(
        detail, paths_in=paths_in, warm_intros=intros, connector_figures=connectors
    )


async def figures_of(
    conn: Conn, user_id: int, contact_ids: Iterable[int | None]
) -> dict[int, Figures]:
    """Some contacts' figures (crm.contact_figures), by contact id."""
    ids = sorted({i for i in contact_ids if i is not None})
    if not ids:
        return {}
    rows = await fetch_all(conn, "contact_figures", {"user_id": user_id, "ids": ids})
    return {r["contact_id"]: figures_mod.from_json(r["figures"]) for r in rows}


WARM_INTRO_BELOW = 40.0
"""Warm introductions are looked for only below this score (weak or no relationship): a path
through someone else is no use to a person who already knows the contact well."""


def wants_introduction(relationship: views.Relationship | None) -> bool:
    return relationship is None or relationship.score < WARM_INTRO_BELOW


async def timeline(
    pool: AsyncConnectionPool, user_id: int, contact_id: int, *, limit: int, offset: int
) -> TimelinePage:
    """The contact's messages, newest first."""
    params = {"id": contact_id, "user_id": user_id, "limit": limit, "offset": offset}
    async with pool.connection() as conn:
        if await fetch_one(conn, "contact_get", params) is None:
            raise ContactNotFound(f"no contact {contact_id}")
        rows = await fetch_all(conn, "contact_timeline", params)
        total = (
            rows[0]["total"]
            if rows
            else await count_past_end(conn, "contact_timeline_count", params, offset)
        )
    return TimelinePage(
        items=tuple(views.timeline_item(r) for r in rows), total=total, limit=limit, offset=offset
    )


async def merge(
    pool: AsyncConnectionPool,
    user_id: int,
    *,
    into_id: int,
    from_id: int,
    actor: str,
    queue: JobQueue | None = None,
    now: datetime | None = None,
) -> MergeResult:
    """Merge the user's contact `from_id` into `into_id` (reversible with `undo_merge`).

    With `queue`, an analysis of the user is enqueued in the same transaction, so the merged
    contact's score is recomputed from all its mail. `now` defaults to the database's clock.
    """
    await _ensure_analysis_queue(queue)
    async with pool.connection() as conn, conn.transaction():
        now = now or await db_now(conn)
        await _live_contact(conn, user_id, into_id)
        if into_id == from_id:
            raise MergeRefused("a contact cannot be merged into itself")
        await _live_contact(conn, user_id, from_id)
        merge_id = await contacts_service.merge_contacts(
            conn, into_id=into_id, from_id=from_id, reason="user", actor=actor, now=now
        )
        if merge_id is None:
            raise MergeRefused("one of the contacts changed meanwhile; reload and try again")
        row = await fetch_one(conn, "contact_merge_get", {"id": merge_id, "user_id": user_id})
        await _log_merge(conn, user_id, "contact.merged", merge_id, into_id, from_id)
        await _request_analysis(queue, conn, user_id)
    assert row is not None
    return MergeResult(
        merge_id=merge_id,
        into_contact_id=into_id,
        from_contact_id=from_id,
        addresses=tuple(row["addresses"]),
    )


async def _log_merge(
    conn: Conn, user_id: int, action: str, merge_id: int, into_id: int, from_id: int
) -> None:
    """Both contacts' activity logs tell of a merge or its undo."""
    for subject, other in ((into_id, from_id), (from_id, into_id)):
        await activity.log(
            conn,
            user_id,
            ("contact", subject),
            action,
            merge_id=merge_id,
            into_contact_id=into_id,
            from_contact_id=from_id,
            other_contact_id=other,
        )


async def _ensure_analysis_queue(queue: JobQueue | None) -> None:
    """Create `analyze-relationships` with the job's own options when no worker has yet."""
    if queue is not None and analyze_relationships.QUEUE not in await queue.get_queues():
        await queue.create_queue(analyze_relationships.QUEUE, **analyze_relationships.QUEUE_OPTIONS)


async def _request_analysis(queue: JobQueue | None, conn: Conn, user_id: int) -> None:
    """Rescore the user now: merges move mail between contacts (deduplicated per user)."""
    if queue is not None:
        await analyze_relationships.enqueue(queue, user_id, conn=conn, debounce=0)


async def db_now(conn: Conn) -> datetime:
    row = await fetch_one(conn, "db_now", {})
    assert row is not None
    return next(iter(row.values()))


async def require_contact(pool: AsyncConnectionPool, user_id: int, contact_id: int) -> None:
    """`ContactNotFound` unless the contact is the user's."""
    async with pool.connection() as conn:
        if await fetch_one(conn, "contact_get", {"id": contact_id, "user_id": user_id}) is None:
            raise ContactNotFound(f"no contact {contact_id}")


async def archive_end(pool: AsyncConnectionPool, user_id: int) -> datetime | None:
    """When the user's mailbox is an archive (no mail for months): the date its mail ends,
    which its scores are computed as of; else None."""
    async with pool.connection() as conn:
        return (await archive.scoring_time(conn, user_id, await db_now(conn))).archive_ends


async def partial_ranking(pool: AsyncConnectionPool, user_id: int) -> Partial | None:
    """While a connection's first import runs: how much of its mail the ranking covers (the
    page labels the ranking as partial); else None."""
    async with pool.connection() as conn:
        return await partial.partial_ranking(conn, user_id)


async def page_now(pool: AsyncConnectionPool) -> datetime:
    """The database's clock: pages show ages against it."""
    async with pool.connection() as conn:
        return await db_now(conn)


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """What an empty contacts list should suggest: connect a mailbox, or wait for processing."""

    connections: int
    has_messages: bool


async def setup(pool: AsyncConnectionPool, user_id: int) -> Setup:
    async with pool.connection() as conn:
        row = await fetch_one(conn, "contact_setup", {"user_id": user_id})
    assert row is not None
    return Setup(connections=row["connections"], has_messages=row["messages"] > 0)


async def _live_contact(conn: Conn, user_id: int, contact_id: int) -> None:
    row = await fetch_one(conn, "contact_get", {"id": contact_id, "user_id": user_id})
    if row is None:
        raise ContactNotFound(f"no contact {contact_id}")
    if row["merged_into_id"] is not None:
        raise MergeRefused(
            f"contact {contact_id} is already merged into contact {row['merged_into_id']}"
        )


async def undo_merge(
    pool: AsyncConnectionPool,
    user_id: int,
    merge_id: int,
    *,
    actor: str,
    queue: JobQueue | None = None,
    now: datetime | None = None,
) -> MergeResult:
    """Undo one of the user's merges; `MergeRefused` when it was already undone.

    With `queue`, an analysis of the user is enqueued in the same transaction (both contacts
    are scored again from their own mail).
    """
    await _ensure_analysis_queue(queue)
    async with pool.connection() as conn, conn.transaction():
        now = now or await db_now(conn)
        row = await fetch_one(conn, "contact_merge_get", {"id": merge_id, "user_id": user_id})
        if row is None:
            raise MergeNotFound(f"no merge {merge_id}")
        if row["unmerged_on"] is not None or not await contacts_service.unmerge(
            conn, merge_id, actor=actor, now=now
        ):
            raise MergeRefused(f"merge {merge_id} was already undone")
        await _log_merge(
            conn,
            user_id,
            "contact.unmerged",
            merge_id,
            row["into_contact_id"],
            row["from_contact_id"],
        )
        await _request_analysis(queue, conn, user_id)
    return MergeResult(
        merge_id=merge_id,
        into_contact_id=row["into_contact_id"],
        from_contact_id=row["from_contact_id"],
        addresses=tuple(row["addresses"]),
    )


__all__ = [
    "ContactNotFound",
    "ContactPage",
    "ContactQuery",
    "MergeNotFound",
    "MergeRefused",
    "MergeResult",
    "MessageRef",
    "Partial",
    "TimelinePage",
    "get_contact",
    "list_contacts",
    "merge",
    "partial_ranking",
    "timeline",
    "undo_merge",
]
