"""LISTEN for "jobs available" notifications and wake the matching workers, reconnecting on loss.

The same session holds the process's liveness lock (see `Store.lock_worker`): when the process
dies, its connection closes and the lock is gone at once, which the rescuer sees.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from fluffymail.db.pool import sever

CHANNEL = "fluffymail_queue"
LOCK_RETRY = 1.0  # seconds between attempts to take a liveness lock an old session still holds
Lock = Callable[["psycopg.AsyncConnection[Any]"], Awaitable[bool]]


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
        lock: Lock | None = None,
    ) -> None:
        self._conninfo, self._on_notify, self._log, self._lock = conninfo, on_notify, log, lock
        self.locked = False  # the liveness lock is held by our session
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
                self.locked = False
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
            await self._take_lock(conn)
            self.listening.set()
            self._on_notify(None)
            while True:
                retry = None if self.locked or self._lock is None else LOCK_RETRY
                async for notify in conn.notifies(timeout=retry):
                    self._on_notify(notify.payload)
                await self._take_lock(conn)

    async def _take_lock(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if self._lock is not None and not self.locked:
            self.locked = await self._lock(conn)
