"""`fluffymail demo` waits for its own user's jobs only, not for other users' in the database."""

from __future__ import annotations

import logging

from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.demo import product
from fluffymail.jobs import (
    build_registry,
    extract_contacts,
    fairness,
    recompute_followups,
    sync_emails,
)
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner

DEMO, OTHER = 1, 2


async def test_demo_progress__counts_the_demo_users_jobs_not_another_users(
    pool: AsyncConnectionPool, queue: JobQueue, db_url: str
) -> None:
    deps = JobDeps(settings=Settings(database_url=db_url), pool=pool, queue=queue,
                   log=logging.getLogger("test"))  # fmt: skip
    registry = build_registry(deps)
    await runner.prepare(queue, registry)
    for user in (DEMO, OTHER):  # a sync (payload), an extraction and an enrichment (group)
        args = sync_emails.Args(connection_id=user, user_id=user)
        await queue.send(sync_emails.QUEUE, args.to_data(), singleton_key=f"c-{user}")
        (chunk,) = fairness.message_chunks([user * 10], user, 100)
        await queue.send(extract_contacts.QUEUE, chunk["data"], group_key=chunk["group_key"])
        await extract_contacts.enqueue_enrichment(
            queue, [user * 100], user_id=user, conn=None, debounce=60
        )
    await recompute_followups.enqueue(queue, OTHER, delay=3600)  # theirs, due in an hour
    queues = {entry.name for entry in registry}

    now = await product.progress(pool, queue, DEMO, queues)

    busy = {name: n for name, n in now.pending.items() if n}
    # was every user's: the other's job due in an hour kept the demo waiting till it gave up
    assert busy == {"sync-emails": 1, "extract-contacts": 1, "enrich-contact": 1}
