"""The product's own priorities: what a person asked for goes first, bulk history goes last."""

from __future__ import annotations

from fluffymail.jobs import analyze_relationships, priorities, sync_emails
from fluffymail.queue import JobQueue


def sync_args(connection_id: int) -> sync_emails.Args:
    return sync_emails.Args(connection_id=connection_id, user_id=connection_id)


async def test_promote__raises_queued_jobs_of_the_key_and_never_lowers(queue: JobQueue) -> None:
    await queue.create_queue("q", policy="stately")
    low = await queue.send("q", {}, singleton_key="k", priority=0)
    assert await queue.promote("q", "k", 5) == [low]
    assert await queue.promote("q", "k", 1) == []  # never lowered
    assert await queue.promote("q", "other", 9) == []
    job = await queue.get_job(low)
    assert job is not None and job.priority == 5


async def test_sync_now__goes_ahead_of_a_full_queue_of_background_syncs(queue: JobQueue) -> None:
    await queue.create_queue(sync_emails.QUEUE, **sync_emails.QUEUE_OPTIONS)
    for connection_id in range(1, 41):  # the 15-minute syncs of forty other connections
        assert await sync_emails.enqueue(queue, sync_args(connection_id)) is not None
    new = await sync_emails.enqueue(queue, sync_args(41), asked=True)  # a new connection
    joined = await sync_emails.enqueue(queue, sync_args(7), asked=True)  # "Sync now" on #7
    assert new is not None and joined is None  # #7's background sync was already queued

    first = await queue.fetch(sync_emails.QUEUE, 2)
    assert sorted(job.data["connection_id"] for job in first) == [7, 41]
    assert {job.priority for job in first} == {priorities.ASKED}
    rest = await queue.fetch(sync_emails.QUEUE, 100)
    assert [job.data["connection_id"] for job in rest] == [*range(1, 7), *range(8, 41)]


async def test_bulk_rescoring__waits_behind_the_analysis_of_new_mail(queue: JobQueue) -> None:
    name = analyze_relationships.QUEUE
    await queue.create_queue(name, **analyze_relationships.QUEUE_OPTIONS)
    await queue.insert_many(  # what the nightly fan-out sends
        name,
        [
            {"data": {"user_id": u, "rescore": True}, "priority": priorities.BULK}
            for u in range(1, 21)
        ],
    )
    await analyze_relationships.enqueue(queue, 30, debounce=0, full=True)
    fresh = await analyze_relationships.enqueue(queue, 31, debounce=0)

    (first,) = await queue.fetch(name, 1)
    assert first.id == fresh
    assert all(job.priority == priorities.BULK for job in await queue.fetch(name, 100))


async def test_nightly_rescore_schedule__sends_bulk_priority(queue: JobQueue) -> None:
    await queue.create_queue(analyze_relationships.QUEUE, **analyze_relationships.QUEUE_OPTIONS)
    assert await analyze_relationships.install_schedule(queue)
    (schedule,) = [
        s for s in await queue.get_schedules() if s["key"] == analyze_relationships.NIGHTLY_KEY
    ]
    assert schedule["options"]["priority"] == priorities.BULK
