"""A completion the database does not take is logged as what happened (issue 16, item 7):
recorded already when the first reply was lost, refused (with the reason) when the lease is
stale, and a worker output jsonb would refuse fails that attempt only."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
import pytest

from fluffymail.queue import Job, JobQueue
from tests.helpers import settled, wait_for

VERDICTS = ("completion refused", "completion already recorded", "completion not confirmed")


def verdicts(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str | None]]:
    return [
        (record.getMessage(), getattr(record, "action", None))
        for record in caplog.records
        if record.getMessage().startswith(VERDICTS)
    ]


async def test_lost_reply__the_retried_ack_says_already_recorded(
    queue: JobQueue, sql: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="fluffymail.queue")
    await queue.create_queue("q")
    completed: list[int] = []
    queue.on("completed", lambda job, **_: completed.append(job.id))
    real_fetch, lost = queue.store.fetch, []

    async def fetch(*args: Any, **kwargs: Any) -> Any:
        fetched = await real_fetch(*args, **kwargs)  # commits, acks included
        if kwargs.get("acks") and not lost:
            lost.append(kwargs["acks"])
            raise psycopg.OperationalError("simulated: the reply to a committed ack was lost")
        return fetched

    monkeypatch.setattr(queue.store, "fetch", fetch)
    job_id = await queue.send("q", {})

    async def handler(job: Job) -> str:
        return "done"

    await queue.work("q", handler)

    async def reported() -> bool:
        return completed == [job_id]

    await wait_for(reported)
    assert [lease.id for lease in lost[0]] == [job_id]  # the first reply really was dropped
    assert (
        await sql.one("SELECT (state, attempt, output)::text FROM queue.job WHERE id = %s", job_id)
        == '(completed,1,"""done""")'
    )
    assert verdicts(caplog) == [
        ("completion already recorded (the first reply was lost)", "queue.ack_recorded")
    ]


async def test_stale_lease__the_ack_is_refused_with_the_reason(
    queue: JobQueue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fluffymail.queue")
    await queue.create_queue("q")
    running, release = asyncio.Event(), asyncio.Event()

    async def handler(job: Job) -> None:
        running.set()
        await release.wait()

    job_id = await queue.send("q", {})
    await queue.work("q", handler)
    await asyncio.wait_for(running.wait(), 10)
    assert await queue.cancel(job_id) == [job_id]  # an operator cancels it mid-run
    release.set()

    async def logged() -> bool:
        return bool(verdicts(caplog))

    await wait_for(logged)
    assert verdicts(caplog) == [("completion refused: the job was cancelled", "queue.stale_ack")]
    job = await queue.get_job(job_id)
    assert job is not None and job.state == "cancelled"


async def test_unstorable_output__fails_that_attempt_and_the_others_complete(
    queue: JobQueue, sql: Any
) -> None:
    await queue.create_queue("q", retry_limit=0)

    async def handler(job: Job) -> str:
        return "bad\x00" if job.data == "bad" else "ok"

    await queue.insert("q", ["ok", "bad", "ok"])
    await queue.work("q", handler, concurrency=3)
    await wait_for(lambda: settled(queue, "q"))
    rows = await sql.all("SELECT data #>> '{}', state::text, output FROM queue.job ORDER BY id")
    assert [(data, state) for data, state, _ in rows] == [
        ("ok", "completed"),
        ("bad", "failed"),
        ("ok", "completed"),
    ]
    assert "output contains a NUL character" in rows[1][2]["message"]
