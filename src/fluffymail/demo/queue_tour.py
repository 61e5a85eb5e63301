"""The queue tour (`fluffymail demo --queue-tour`): a small workload through the real worker service, narrated.

Jobs flow through `demo-hello`; one job in `demo-flaky` fails twice and then succeeds; one in
`demo-delayed` waits a few seconds before it may start; one in `demo-doomed` always fails and
ends in the `demo-dead-letters` queue. Then the per-state counts are printed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from rich.console import Console

from fluffymail.config import Settings
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.registry import Registry

HELLO_JOBS = 40
QUEUES = ("demo-hello", "demo-flaky", "demo-delayed", "demo-doomed", "demo-dead-letters")


async def say_hello(job: Job) -> dict[str, Any]:
    await asyncio.sleep(random.uniform(0.02, 0.2))
    return {"greeting": f"hello, {job.data['name']}"}


async def flaky(job: Job) -> str:
    if job.retry_count < 2:
        raise ConnectionError(f"upstream unavailable (attempt {job.retry_count + 1})")
    return "succeeded on the third attempt"


async def delayed(job: Job) -> str:
    return "ran after its delay"


async def doomed(job: Job) -> None:
    raise ValueError("this job always fails")


def build_registry(deps: JobDeps) -> Registry:
    """The demo's job kinds (the real ones live in `fluffymail.jobs`)."""
    del deps
    registry = Registry()
    registry.register("demo-dead-letters", delayed, concurrency=1)
    registry.register("demo-hello", say_hello, concurrency=5)
    registry.register("demo-flaky", flaky, retry_limit=3, retry_delay=1, retry_backoff=True)
    registry.register("demo-delayed", delayed)
    registry.register("demo-doomed", doomed, retry_limit=1, dead_letter="demo-dead-letters")
    return registry


async def main(settings: Settings, console: Console) -> None:
    from fluffymail.cli.context import open_context
    from fluffymail.cli.jobs import stats_table
    from fluffymail.queue import runner

    logging.getLogger("fluffymail.queue").setLevel(logging.ERROR)  # the narration says it better
    console.print("[bold]FluffyMail demo[/bold]: the job queue and worker service")
    async with open_context(settings, migrate_first=True, name="demo") as ctx:
        where = (
            "DATABASE_URL"
            if settings.database_url
            else f"embedded PostgreSQL in {settings.data_dir}"
        )
        console.print(f"database: {where}; schema migrated")
        registry = build_registry(ctx.deps())
        await runner.prepare(ctx.queue, registry)
        for name in QUEUES:
            await ctx.queue.purge_queue(name)
        narrate(ctx.queue, console)
        await send_workload(ctx.queue, console)
        stop = asyncio.Event()
        service = asyncio.create_task(
            runner.run(ctx.queue, registry, {}, grace=5, stop=stop, only=set(QUEUES[:-1]))
        )
        await wait_until_settled(ctx.queue)
        stop.set()
        await service
        stats = await ctx.queue.get_queue_stats(None)
        console.print(stats_table({name: stats[name] for name in QUEUES}))
        console.print(
            "Next: [bold]./dev test[/bold] runs the test suite; `fluffymail worker` runs the service."
        )


async def send_workload(queue: JobQueue, console: Console) -> None:
    names = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"]
    await queue.insert("demo-hello", [{"name": names[i % len(names)]} for i in range(HELLO_JOBS)])
    await queue.send("demo-flaky", {"what": "fails twice, then succeeds"})
    await queue.send("demo-delayed", {"what": "starts 3 seconds from now"}, start_after="3 seconds")
    await queue.send("demo-doomed", {"what": "always fails, ends as a dead letter"})
    console.print(f"sent {HELLO_JOBS} hello jobs, 1 flaky, 1 delayed (3 s), 1 doomed")


def narrate(queue: JobQueue, console: Console) -> None:
    done = {"n": 0}

    def completed(job: Job, output: Any, duration: float) -> None:
        done["n"] += 1
        if job.name != "demo-hello" or done["n"] % 10 == 0:
            console.print(
                f"  [green]completed[/green] {job.name} #{job.id} in {duration * 1000:.0f} ms: {output}"
            )

    def retried(job: Job, error: dict[str, Any], **_: Any) -> None:
        console.print(
            f"  [yellow]failed, will retry[/yellow] {job.name} #{job.id}: {error['message']}"
        )

    def failed(job: Job, error: dict[str, Any], dead_letter_id: int | None, **_: Any) -> None:
        where = f"; dead letter #{dead_letter_id}" if dead_letter_id else ""
        console.print(
            f"  [red]failed for good[/red] {job.name} #{job.id}: {error['message']}{where}"
        )

    queue.on("completed", completed)
    queue.on("retried", retried)
    queue.on("failed", failed)


async def wait_until_settled(queue: JobQueue, within: float = 60) -> None:
    async with asyncio.timeout(within):
        while True:
            await asyncio.sleep(0.5)
            stats = await queue.get_queue_stats(None)
            pending = sum(
                stats[name][state]
                for name in QUEUES[:-1]
                for state in ("created", "deferred", "retry", "active")
            )
            if pending == 0:
                return
