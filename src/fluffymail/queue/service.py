"""`Loop`: the small start/stop service every periodic background task is built on, and
`bounded`: awaiting work for at most a given time without being held by it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any


async def bounded(work: Awaitable[Any], seconds: float) -> bool:
    """Await `work` for at most `seconds`; on time out cancel it and return False at once.

    Unlike `asyncio.timeout`, this never waits for the cancelled work to finish: a statement
    stuck on a dead connection, or a handler that swallows CancelledError, cannot hold it up.
    Errors of `work` are raised.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.0))
    if not done:
        task.cancel()
        return False
    task.result()
    return True


class Loop:
    """Run `step` every `interval` seconds (±10% jitter) until stopped; errors are logged, not fatal."""

    def __init__(
        self, name: str, step: Callable[[], Awaitable[object]], interval: float, log: logging.Logger
    ) -> None:
        self.name, self.step, self.interval, self.log = name, step, interval, log
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self, *, wait_first: bool = False) -> None:
        """Start the loop; `wait_first`: the first step one interval from now, not at once."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(wait_first), name=self.name)

    async def stop(self, wait: float = 10.0) -> bool:
        """Cancel the loop and wait for it at most `wait` seconds; False if it did not end."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return True
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=max(wait, 0.0))
        if done and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
        return bool(done)

    async def run_once(self) -> object:
        return await self.step()

    async def _run(self, wait_first: bool = False) -> None:
        if wait_first:
            await self._sleep()
        while not self._stop.is_set():
            try:
                await self.step()
            except Exception:
                self.log.exception("loop iteration failed", extra={"action": f"{self.name}.error"})
            await self._sleep()

    async def _sleep(self) -> None:
        delay = self.interval * random.uniform(0.9, 1.1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), delay)
