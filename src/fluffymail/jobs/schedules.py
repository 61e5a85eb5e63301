"""The recurring jobs of the job kinds: each created once, never re-created."""

from __future__ import annotations

from typing import Any

from fluffymail.queue import JobQueue

__all__ = ["install_once"]


async def install_once(
    queue: JobQueue, name: str, cron_expr: str, data: Any, *, key: str, **options: Any
) -> bool:
    """Create the schedule (`name`, `key`) unless it exists (re-creating one could skip a
    tick); whether it was created."""
    if any(s["name"] == name and s["key"] == key for s in await queue.get_schedules()):
        return False
    await queue.schedule(name, cron_expr, data, key=key, **options)
    return True
