"""Opening a contact page asks for its summary when it has none or one older than its mail."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.relationships import summary_demand
from fluffymail.jobs import priorities, summarize_relationship
from fluffymail.queue import JobQueue

__all__ = ["on_view"]


async def on_view(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, contact_id: int
) -> bool:
    """Record the view; send the contact's summary job ahead of bulk work when its summary is
    missing or stale. True when one was asked for (or is already queued)."""
    if summarize_relationship.QUEUE not in await queue.get_queues():
        opts = summarize_relationship.QUEUE_OPTIONS
        await queue.create_queue(summarize_relationship.QUEUE, **opts)
    async with pool.connection() as conn, conn.transaction():
        stale = await summary_demand.record_view(conn, user_id, contact_id)
        if stale:
            await summarize_relationship.enqueue_many(
                queue, user_id, [contact_id], conn=conn, priority=priorities.ASKED
            )
    return stale
