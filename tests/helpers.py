"""Small async helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fluffymail.queue import JobQueue, JobState, runner
from fluffymail.queue.registry import Registry


async def wait_for(predicate: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll `predicate` until it is true (a bound on hanging, not a speed assertion)."""
    async with asyncio.timeout(within):
        while not await predicate():  # noqa: ASYNC110 - the state lives in the database
            await asyncio.sleep(0.02)


async def settled(queue: JobQueue, name: str) -> bool:
    """No job of `name` is queued, deferred or running."""
    stats = await queue.get_queue_stats(name)
    return stats["created"] + stats["retry"] + stats["active"] + stats["deferred"] == 0


async def work_until_idle(
    queue: JobQueue, registry: Registry, names: tuple[str, ...], seconds: float = 45.0
) -> int:
    """Work queues `names` with the registry's handlers, as `fluffymail worker` does, until
    none of their jobs is queued, running or due soon (a sync's run suspended on its
    extraction is woken by the last batch); then stop. How many of their jobs completed."""
    before = await _completed(queue, names)
    await runner.prepare(queue, registry)
    for name in names:
        await queue.work(name, registry[name].handler)
    try:
        async with asyncio.timeout(seconds):
            while await _busy(queue, names):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        await queue.stop(grace=5)
    return await _completed(queue, names) - before


async def _busy(queue: JobQueue, names: tuple[str, ...]) -> bool:
    # One query, so one snapshot: read queue by queue, a child that completes and wakes its
    # parent between two reads would be seen done while its parent is still seen waiting.
    soon = datetime.now(UTC) + timedelta(seconds=2)
    states = ["created", "active", "retry"]
    for job in await queue.find_jobs(states=states, limit=100_000):
        if job.name in names and (
            job.state != JobState.RETRY or (job.start_after and job.start_after <= soon)
        ):
            return True
    return False


async def _completed(queue: JobQueue, names: tuple[str, ...]) -> int:
    done = 0
    for name in names:
        done += len(await queue.find_jobs(name=name, states=["completed"], limit=100_000))
    return done


def write_maildir(root: Path, folders: dict[str, list[bytes]]) -> Path:
    """A Maildir++ tree: "inbox" -> root cur/, any other name (e.g. "Sent") -> .<name>/cur."""
    for folder, messages in folders.items():
        base = root if folder == "inbox" else root / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        for i, raw in enumerate(messages):
            (base / "cur" / f"{1000 + i}.M{i}P0.test,S={len(raw)}:2,S").write_bytes(raw)
    return root
