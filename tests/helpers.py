"""Small async helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fluffymail.queue import JobQueue


async def wait_for(predicate: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll `predicate` until it is true (a bound on hanging, not a speed assertion)."""
    async with asyncio.timeout(within):
        while not await predicate():  # noqa: ASYNC110 - the state lives in the database
            await asyncio.sleep(0.02)


async def settled(queue: JobQueue, name: str) -> bool:
    """No job of `name` is queued, deferred or running."""
    stats = await queue.get_queue_stats(name)
    return stats["created"] + stats["retry"] + stats["active"] + stats["deferred"] == 0
