"""Workflow groups: jobs sent into a run's group by a step's transactions, joined without polling."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from fluffymail.queue import Job, JobQueue
from fluffymail.queue.outcomes import Snooze
from fluffymail.queue.workflows import Group, Step, StepFailedError, Workflows
from tests.integration.test_workflows import finished


@pytest.fixture
def wf(queue: JobQueue) -> Workflows:
    return Workflows(queue)


async def send_pieces(wf: Workflows, group: Group, n: int, fail: int | None = None) -> int:
    """What a sync's batches do: each transaction stores its piece and sends its job."""
    for i in range(n):
        async with wf.queue.pool.connection() as conn, conn.transaction():
            data = {"i": i, "fail": i == fail}
            await wf.add_children(group, "piece", [{"data": data}], conn=conn)
    return n


async def test_groups__the_join_waits_for_every_job_sent_into_the_group(wf: Workflows, sql) -> None:
    done: list[int] = []

    async def piece(job: Job) -> Any:
        await asyncio.sleep(0.01)
        if job.data["fail"]:
            raise ValueError("this piece fails")
        done.append(job.data["i"])
        return {"i": job.data["i"]}

    @wf.define("pipeline")
    async def pipeline(step: Step, args: dict[str, Any]) -> Any:
        group = await step.group("pieces")
        sent = await step.run("send", send_pieces, wf, group, args["n"], args["fail"])
        joined = await step.join("pieces")
        return {"sent": sent, "joined": joined, "done_then": len(done)}

    await wf.queue.create_queue("piece", retry_limit=1, retry_delay=0)
    await wf.queue.work("piece", wf.child_handler(piece), concurrency=4)
    run_id = await wf.start("pipeline", {"n": 60, "fail": 7})
    await wf.work("pipeline")
    run = await finished(wf, run_id, within=60)
    assert run.output["joined"] == {"children": 60, "completed": 59, "failed": 1}
    assert run.output["done_then"] == 59  # every piece had finished when the join returned
    # the join held no slot: the run was claimed at its start and once more, woken by the last
    assert await sql.one("SELECT attempt FROM queue.job WHERE id = %s", run_id) == 2
    step = next(s for s in run.steps if s.name == "pieces")
    assert step.kind == "group" and step.state == "completed"


async def test_groups__a_join_after_every_job_finished_does_not_wait(wf: Workflows) -> None:
    async def piece(job: Job) -> Any:
        return job.data["i"]

    @wf.define("pipeline")
    async def pipeline(step: Step, args: Any) -> Any:
        group = await step.group("pieces")
        await step.run("send", send_pieces, wf, group, 3)
        await step.sleep("let them finish", 1.5)
        return await step.join("pieces")

    await wf.queue.create_queue("piece")
    await wf.queue.work("piece", wf.child_handler(piece), concurrency=3)
    run_id = await wf.start("pipeline")
    await wf.work("pipeline")
    assert (await finished(wf, run_id, within=30)).output == {"children": 3, "completed": 3}


async def test_groups__an_empty_group_joins_at_once_and_a_joined_group_takes_no_more(
    wf: Workflows,
) -> None:
    @wf.define("pipeline")
    async def pipeline(step: Step, args: Any) -> Any:
        group = await step.group("pieces")
        joined = await step.join("pieces")
        try:
            await step.run("late", send_pieces, wf, group, 1, retry_limit=0)
        except StepFailedError as exc:
            return {"joined": joined, "late": exc.error}
        return None

    await wf.queue.create_queue("piece")
    run_id = await wf.start("pipeline")
    await wf.work("pipeline")
    out = (await finished(wf, run_id, within=30)).output
    assert out["joined"] == {"children": 0}
    assert "has no open group" in out["late"]["message"]


async def test_groups__a_rolled_back_send_counts_no_job(wf: Workflows, queue: JobQueue) -> None:
    @wf.define("pipeline")
    async def pipeline(step: Step, args: Any) -> Any:
        group = await step.group("pieces")
        await step.run("send", send_rolled_back, group)
        return await step.join("pieces")

    async def send_rolled_back(group: Group) -> None:
        with pytest.raises(psycopg.errors.DivisionByZero):
            async with queue.pool.connection() as conn, conn.transaction():
                await wf.add_children(group, "piece", [{"data": {"i": 1}}], conn=conn)
                await conn.execute("SELECT 1 / 0")

    await queue.create_queue("piece")
    run_id = await wf.start("pipeline")
    await wf.work("pipeline")
    assert (await finished(wf, run_id, within=30)).output == {"children": 0}


async def test_groups__a_job_failed_for_good_by_the_rescuer_counts_in_the_join(
    wf: Workflows, queue: JobQueue, sql
) -> None:
    """A child whose worker died on its last attempt is failed by the rescue, not by its
    handler: its run must still learn of it (fail_jobs tells the parent)."""

    @wf.define("pipeline")
    async def pipeline(step: Step, args: Any) -> Any:
        group = await step.group("pieces")
        await step.run("send", send_pieces, wf, group, 1)
        return await step.join("pieces")

    await queue.create_queue("piece", retry_limit=0)
    run_id = await wf.start("pipeline")
    await wf.work("pipeline")
    child = await _wait_child(sql, run_id)
    # what the rescuer does for a lost attempt: fail_jobs with the attempt it held
    await sql.execute("UPDATE queue.job SET state = 'active', attempt = 1 WHERE id = %s", child)
    await sql.execute(
        "SELECT queue.fail_jobs(ARRAY[%s]::bigint[], ARRAY[1], "
        """'[{"type": "WorkerLost", "message": "gone"}]'::jsonb)""",
        child,
    )
    assert (await finished(wf, run_id, within=30)).output == {"children": 1, "failed": 1}


async def _wait_child(sql, run_id: int) -> int:
    for _ in range(200):
        row = await sql.one(
            "SELECT children[1] FROM queue.workflow_step WHERE run_id = %s AND name = 'pieces' "
            "AND state = 'waiting'",
            run_id,
        )
        if row is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("the run never waited on its group")


async def test_groups__cancelling_the_run_cancels_the_jobs_of_its_groups(
    wf: Workflows, queue: JobQueue, sql
) -> None:
    @wf.define("pipeline")
    async def pipeline(step: Step, args: Any) -> Any:
        group = await step.group("pieces")
        await step.run("send", send_pieces, wf, group, 3)
        return await step.join("pieces")

    await queue.create_queue("piece")  # no worker: the pieces stay queued
    run_id = await wf.start("pipeline")
    await wf.work("pipeline")
    await _wait_child(sql, run_id)
    cancelled = await wf.cancel(run_id)
    states = await sql.all("SELECT state::text FROM queue.job WHERE name = 'piece'")
    assert len(cancelled) == 4 and [s for (s,) in states] == ["cancelled"] * 3


async def test_groups__a_snoozed_job_counts_once_it_completes(wf: Workflows) -> None:
    snoozed: list[int] = []

    async def piece(job: Job) -> Any:
        if not snoozed:
            snoozed.append(job.id)
            raise Snooze(0.2)
        return job.data["i"]

    @wf.define("pipeline")
    async def pipeline(step: Step, args: Any) -> Any:
        group = await step.group("pieces")
        await step.run("send", send_pieces, wf, group, 1)
        return await step.join("pieces")

    await wf.queue.create_queue("piece")
    await wf.queue.work("piece", wf.child_handler(piece))
    run_id = await wf.start("pipeline")
    await wf.work("pipeline")
    assert (await finished(wf, run_id, within=30)).output == {"children": 1, "completed": 1}
    assert snoozed
