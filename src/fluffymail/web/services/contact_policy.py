"""Why a connection's mail made (or did not make) contacts, as the web app shows it: the
explanation per connection, the people who wrote and are not contacts, adding them, and
changing a connection's creation policy (re-applied to its mail by the
`apply-contact-policy` job, sent in the same transaction).

Every query carries the caller's user id: another user's connection or contact looks
exactly like a missing one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm.contacts import policy
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.contacts.policy_repo import Sender
from fluffymail.jobs import apply_contact_policy, enrich_contact, extract_contacts, sync_calendar
from fluffymail.queue import JobQueue
from fluffymail.web.services import activity
from fluffymail.web.services import connections as connections_service
from fluffymail.web.services.connections import ConnectionNotFound, ConnectionProblem
from fluffymail.web.services.contacts import ContactNotFound, db_now
from fluffymail.web.services.paging import Page
from fluffymail.web.services.ttl_cache import TtlCache

POLICIES = tuple(str(p) for p in Policy)
Explanation = policy.Explanation


@dataclass(frozen=True, slots=True, kw_only=True)
class People:
    """A connection, what its mail made of people, and a page of those who wrote and wait."""

    connection: connections_service.ConnectionView
    explanation: Explanation
    page: Page[Sender]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyChange:
    connection: connections_service.ConnectionView
    job_id: int | None  # the apply-contact-policy job; None when one was already queued


def parse_policy(value: str) -> Policy:
    """The policy named `value`; a 400 `ConnectionProblem` naming the choices otherwise."""
    try:
        return Policy(value)
    except ValueError:
        raise ConnectionProblem(
            400,
            "unknown_policy",
            f"unknown contact policy {value[:40]!r}; use one of {', '.join(POLICIES)}",
        ) from None


async def explanations(
    pool: AsyncConnectionPool,
    user_id: int,
    views: Sequence[connections_service.ConnectionView],
    *,
    cache: TtlCache | None = None,
    refresh: bool = False,
) -> dict[int, Explanation]:
    """The explanation of each connection that has finished reading mail (not while it syncs).

    The connections list is polled every few seconds and an explanation reads all of a
    connection's mail (about 50 ms per 10,000 messages), so with `cache` one read within the
    cache's time to live is reused while the connection's sync state and policy are unchanged
    (`refresh`: read them all again, and cache that).
    """
    found: dict[int, Explanation] = {}
    async with pool.connection() as conn:
        for view in views:
            if view.deleting or view.status == "syncing" or not view.last_synced_on:
                continue
            key = (user_id, view.id, view.last_synced_on, view.contact_policy)
            explained = cache.get(key) if cache is not None and not refresh else None
            if explained is None:
                explained = await policy.explain(conn, user_id, view.id)
                if cache is not None and explained is not None:
                    cache.put(key, explained)
            if explained is not None:
                found[view.id] = explained
    return found


async def explain(pool: AsyncConnectionPool, user_id: int, connection_id: int) -> Explanation:
    async with pool.connection() as conn:
        explained = await policy.explain(conn, user_id, connection_id)
    if explained is None:
        raise ConnectionNotFound(f"no connection {connection_id}")
    return explained


async def people(
    pool: AsyncConnectionPool, user_id: int, connection_id: int, *, limit: int, offset: int
) -> People:
    """The connection's people who wrote and are not contacts, most messages first. The
    explanation and the page are read concurrently on separate pool connections: each reads the
    connection's mail (one after the other the page took the sum; bench/policy_pages_bench.py)."""
    view = await connections_service.get_connection(pool, user_id, connection_id)

    async def explained_now() -> Explanation | None:
        async with pool.connection() as conn:
            return await policy.explain(conn, user_id, connection_id)

    async def senders_now() -> tuple[list[Sender], int]:
        async with pool.connection() as conn:
            return await policy.waiting(conn, user_id, connection_id, limit=limit, offset=offset)

    # gather, not a TaskGroup: the first error propagates as itself
    explained, (senders, total) = await asyncio.gather(explained_now(), senders_now())
    if explained is None:
        raise ConnectionNotFound(f"no connection {connection_id}")
    page = Page(items=tuple(senders), total=total, limit=limit, offset=offset)
    return People(connection=view, explanation=explained, page=page)


async def add_people(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    settings: Settings,
    user_id: int,
    connection_id: int,
    contact_ids: Sequence[int],
) -> list[int]:
    """Add the user's people as contacts (kept whatever the policy) and send their enrichment,
    as for any new contact; all or none: an id that is not one of the user's live people
    answers `ContactNotFound` and changes nothing."""
    await connections_service.get_connection(pool, user_id, connection_id)
    wanted = sorted(set(contact_ids))
    if enrich_contact.QUEUE not in await queue.get_queues():
        await queue.create_queue(enrich_contact.QUEUE, **enrich_contact.QUEUE_OPTIONS)
    async with pool.connection() as conn, conn.transaction():
        added = await policy.keep(conn, user_id, wanted, now=await db_now(conn))
        if added != wanted:
            missing = sorted(set(wanted) - set(added))
            raise ContactNotFound(f"no contact {missing[0]}")
        for contact_id in added:
            await activity.log(
                conn, user_id, ("contact", contact_id), "contact.added", connection_id=connection_id
            )
        await extract_contacts.enqueue_enrichment(
            queue, added, user_id=user_id, conn=conn, debounce=settings.enrich_debounce
        )
    return added


async def set_policy(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, connection_id: int, value: Policy
) -> PolicyChange:
    """Store the connection's policy and send the job that re-applies it to its mail (in one
    transaction). Setting the policy it has changes nothing and sends nothing."""
    view = await connections_service.get_connection(pool, user_id, connection_id)
    if view.deleting:
        raise ConnectionProblem(409, "deleting", "this connection is being deleted")
    if view.contact_policy == str(value):
        return PolicyChange(connection=view, job_id=None)
    await apply_contact_policy.ensure_queue(queue)
    args = apply_contact_policy.Args(connection_id=connection_id, user_id=user_id)
    async with pool.connection() as conn, conn.transaction():
        if not await policy.set_policy(conn, user_id, connection_id, value):
            raise ConnectionProblem(409, "deleting", "this connection is being deleted")
        job_id = await apply_contact_policy.enqueue(queue, args, conn=conn)
        if view.kind == "gmail":  # its calendar's attendees too: a full listing re-applies it
            calendar = sync_calendar.Args(connection_id=connection_id, user_id=user_id, full=True)
            await sync_calendar.enqueue(queue, calendar, conn=conn)
    view = await connections_service.get_connection(pool, user_id, connection_id)
    return PolicyChange(connection=view, job_id=job_id)
