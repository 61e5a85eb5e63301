"""`Loop`: the small start/stop service every periodic background task is built on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable


class Loop:
    """Run `step` every `interval` seconds (±10% jitter) until stopped; errors are logged, not fatal."""

    def __init__(
        self, name: str, step: Callable[[], Awaitable[object]], interval: float, log: logging.Logger
    ) -> None:
        self.name, self.step, self.interval, self.log = name, step, interval, log
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> object:
        return await self.step()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.step()
            except Exception:
                self.log.exception("loop iteration failed", extra={"action": f"{self.name}.error"})
            delay = self.interval * random.uniform(0.9, 1.1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
