"""Follow-up reminders on the queue: re-scheduled many times, run by two workers at once, each
fires exactly once (one `followup.due` event); the nightly recompute is a cron schedule."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.followups.models import Reminder
from fluffymail.jobs import followup_reminder, recompute_followups
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue
from tests.helpers import settled, wait_for
from tests.integration.web.contact_seed import seed_crm
from tests.integration.web.followup_seed import keep_live


async def _user(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        row = await (
            await conn.execute("INSERT INTO crm.users (email) VALUES ('dana@x.test') RETURNING id")
        ).fetchone()
    return int(row[0])


async def _rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[tuple[Any, ...]]:
    async with pool.connection() as conn:
        return await (await conn.execute(query, params)).fetchall()


def _deps(pool: AsyncConnectionPool, queue: JobQueue, db_url: str, tmp_path: Path) -> JobDeps:
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    return JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))


async def test_reminders__two_workers_fire_each_once_after_many_reschedules(
    pool: AsyncConnectionPool, make_queue, db_url: str, tmp_path: Path
) -> None:
    first, second = make_queue(), make_queue()
    for module in (followup_reminder, recompute_followups):
        await first.create_queue(module.QUEUE, **module.QUEUE_OPTIONS)
    user_id = await _user(pool)
    seeded = await seed_crm(pool, user_id)
    await keep_live(pool, user_id)  # a live mailbox: reminders due as of now
    people = [seeded.contacts[n] for n in ("ada", "grace", "linus", "colleague")]
    async with pool.connection() as conn:
        await followups_repo.set_cadences(conn, user_id, people, 7)
    deps = _deps(pool, first, db_url, tmp_path)
    output = await recompute_followups.recompute_user(deps, SystemClock(), user_id)
    assert output["rescheduled"] >= len(people)
    followups = [r[0] for r in await _rows(pool, "SELECT id FROM crm.followups")]
    # Re-scheduled again and again (as snoozes and recomputes do): one job stays queued each.
    now = datetime.now(UTC)
    for n in range(5):
        reminders = [Reminder(followup_id=f, at=now - timedelta(seconds=n)) for f in followups]
        await followup_reminder.schedule(first, reminders)
    queued = await _rows(
        pool,
        "SELECT singleton_key, count(*) FROM queue.job WHERE name = %s AND state = 'created'"
        " GROUP BY 1",
        followup_reminder.QUEUE,
    )
    assert sorted(n for _, n in queued) == [1] * len(followups)

    calls: Counter[int] = Counter()
    handle = followup_reminder.make_handler(deps, SystemClock())

    async def counted(job: Job) -> Any:
        calls[job.data["followup_id"]] += 1
        return await handle(job)

    await first.work(followup_reminder.QUEUE, counted, concurrency=3)
    await second.work(followup_reminder.QUEUE, counted, concurrency=3)
    await wait_for(lambda: settled(first, followup_reminder.QUEUE))
    events = await _rows(
        pool, "SELECT payload->>'followup_id' FROM crm.outgoing_events WHERE kind = 'followup.due'"
    )
    assert Counter(int(e) for (e,) in events) == Counter(followups)  # each exactly once
    assert calls == Counter(followups)  # replaced jobs never ran
    # A stray second job for the same reminder (a retry, say) finds it fired already.
    assert await handle(_job(followups[0])) == {"fired": False}
    assert len(await _rows(pool, "SELECT id FROM crm.outgoing_events")) == len(followups)


def _job(followup_id: int) -> Job:
    return Job(id=0, name=followup_reminder.QUEUE, data={"followup_id": followup_id})


async def test_reminder__moved_later_is_sent_again_for_then(
    pool: AsyncConnectionPool, make_queue, db_url: str, tmp_path: Path
) -> None:
    queue = make_queue()
    await queue.create_queue(followup_reminder.QUEUE, **followup_reminder.QUEUE_OPTIONS)
    user_id = await _user(pool)
    seeded = await seed_crm(pool, user_id)
    await keep_live(pool, user_id)  # a live mailbox: reminders due as of now
    async with pool.connection() as conn:
        await followups_repo.set_cadences(conn, user_id, [seeded.contacts["ada"]], 7)
        await queue.create_queue(recompute_followups.QUEUE, **recompute_followups.QUEUE_OPTIONS)
    deps = _deps(pool, queue, db_url, tmp_path)
    await recompute_followups.recompute_user(deps, SystemClock(), user_id)
    ((followup_id,),) = await _rows(pool, "SELECT id FROM crm.followups WHERE key = %s", "cadence")
    later = datetime.now(UTC) + timedelta(days=3)
    await _rows(
        pool,
        "UPDATE crm.followups SET remind_on = %s WHERE id = %s RETURNING id",
        later,
        followup_id,
    )
    handle = followup_reminder.make_handler(deps, SystemClock())
    result = await handle(_job(followup_id))
    assert result["fired"] is False
    ((start,),) = await _rows(
        pool,
        "SELECT start_after FROM queue.job WHERE singleton_key = %s AND state = 'created'",
        followup_reminder.key_of(followup_id),
    )
    assert abs(start - later) < timedelta(seconds=1)
    assert await _rows(pool, "SELECT id FROM crm.outgoing_events") == []


async def test_nightly_schedule__installed_once(make_queue) -> None:
    queue = make_queue()
    await queue.create_queue(recompute_followups.QUEUE, **recompute_followups.QUEUE_OPTIONS)
    assert await recompute_followups.install_schedule(queue) is True
    assert await recompute_followups.install_schedule(queue) is False
    (schedule,) = [s for s in await queue.get_schedules() if s["name"] == recompute_followups.QUEUE]
    assert schedule["cron"] == recompute_followups.NIGHTLY_CRON and schedule["data"] == {
        "all": True
    }
