"""Small async helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

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


def write_maildir(root: Path, folders: dict[str, list[bytes]]) -> Path:
    """A Maildir++ tree: "inbox" -> root cur/, any other name (e.g. "Sent") -> .<name>/cur."""
    for folder, messages in folders.items():
        base = root if folder == "inbox" else root / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        for i, raw in enumerate(messages):
            (base / "cur" / f"{1000 + i}.M{i}P0.test,S={len(raw)}:2,S").write_bytes(raw)
    return root
