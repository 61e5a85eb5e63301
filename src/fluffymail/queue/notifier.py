"""LISTEN for "jobs available" notifications and wake the matching workers, reconnecting on loss."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

from fluffymail.db.pool import sever

CHANNEL = "fluffymail_queue"


class Notifier:
    """Holds one session connection that LISTENs; calls `on_notify(queue_name)` per message.

    After a reconnect `on_notify(None)` is called, since notifications may have been missed.
    """

    def __init__(
        self,
        conninfo: str,
        on_notify: Callable[[str | None], None],
        log: logging.Logger,
        connect_kwargs: dict[str, object] | None = None,
    ) -> None:
        self._conninfo, self._on_notify, self._log = conninfo, on_notify, log
        self._kwargs = {k: v for k, v in (connect_kwargs or {}).items() if k != "autocommit"}
        self._task: asyncio.Task[None] | None = None
        self._conn: psycopg.AsyncConnection[object] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="queue.notifier")

    async def stop(self, wait: float = 5.0) -> bool:
        """Stop listening; False if the task did not end within `wait` seconds (abandoned)."""
        if self._task is None:
            return True
        self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=wait)
        if not done:
            self.reset()
        return bool(done)

    def reset(self) -> None:
        """The database stopped answering: drop the listening connection and reconnect."""
        if self._conn is not None:
            sever(self._conn)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as exc:
                self.listening.clear()
                self._log.warning(
                    "listener lost; polling until it reconnects",
                    extra={"action": "queue.notifier_lost", "error": str(exc)},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _listen(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, **self._kwargs
        )
        self._conn = conn
        async with conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self._on_notify(None)
            async for notify in conn.notifies():
                self._on_notify(notify.payload)
