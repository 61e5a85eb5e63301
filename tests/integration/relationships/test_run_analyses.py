"""An analysis that leaves mail pending queues another only when no sync run of the user will
analyse it at its end (the import path has no "wait for extraction" loop)."""

from __future__ import annotations

from fluffymail.jobs import analyze_relationships, sync_emails
from fluffymail.queue import JobQueue


async def test_a_queued_or_waiting_sync_run_will_analyse_its_user(queue: JobQueue, sql) -> None:
    await queue.create_queue(sync_emails.QUEUE, **sync_emails.QUEUE_OPTIONS)
    assert not await analyze_relationships._a_run_will_analyse(queue, 7)
    run = await sync_emails.enqueue(queue, sync_emails.Args(connection_id=3, user_id=7))
    assert await analyze_relationships._a_run_will_analyse(queue, 7)
    assert not await analyze_relationships._a_run_will_analyse(queue, 8)  # another user's
    # waiting for its extraction (suspended on its group) still counts; finished does not
    await sql.execute("UPDATE queue.job SET state = 'retry' WHERE id = %s", run)
    assert await analyze_relationships._a_run_will_analyse(queue, 7)
    await sql.execute("UPDATE queue.job SET state = 'completed' WHERE id = %s", run)
    assert not await analyze_relationships._a_run_will_analyse(queue, 7)
