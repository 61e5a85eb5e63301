"""The watchdog: notices that the database stopped answering and replaces the connections.

A connection to a server behind a dead network (packets dropped, not refused) waits for ever:
nothing fails, the worker just stops. Every second the watchdog looks at when a queue statement
last succeeded; when that is over `stall_seconds / 3` ago it sends its own `SELECT 1` on a
connection of its own (so an idle but healthy worker, whose poll succeeds every second, costs
no extra queries). After `stall_seconds` without a
successful round trip it logs "database unreachable for N s; reconnecting", severs the
connections the queue's statements are waiting on (they fail at once; the pool replaces them),
drains the pool's idle connections and calls `on_stall`. It does so again every `stall_seconds`
while the database stays silent. The first success after that calls `on_recover`.

It also bounds each queue statement from the client side: one waiting for longer than
`statement_timeout` has its connection severed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from fluffymail.db.pool import sever
from fluffymail.queue.service import Loop, bounded
from fluffymail.queue.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchdogOptions:
    stall_seconds: float = 6.0  # without a successful round trip: reconnect
    statement_timeout: float = 60.0  # a queue statement waiting longer loses its connection
    interval: float = 1.0


class Watchdog:
    """See the module docstring; `stalled_since` is set while the database is unreachable."""

    def __init__(
        self,
        store: Store,
        pool: AsyncConnectionPool,
        options: WatchdogOptions,
        log: logging.Logger,
        *,
        on_stall: Callable[[], None] = lambda: None,
        on_recover: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.store, self.pool, self.options, self.log = store, pool, options, log
        self.on_stall, self.on_recover = on_stall, on_recover
        self.stalled_since: float | None = None
        self.recovered_at: float | None = None
        self._reset_at = 0.0
        self._probe: psycopg.AsyncConnection[Any] | None = None
        self.loop = Loop("queue.watchdog", self.check, options.interval, log)

    def start(self) -> None:
        self.loop.start()

    async def stop(self, wait: float = 5.0) -> bool:
        stopped = await self.loop.stop(wait)
        probe, self._probe = self._probe, None
        if probe is not None:
            sever(probe)
            await bounded(probe.close(), 1.0)
        return stopped

    async def check(self) -> None:
        """One look: enforce the statement timeout, probe if quiet, reconnect or recover."""
        now = time.monotonic()
        limit = self.options.statement_timeout
        oldest = self.store.oldest_in_flight()
        if oldest is not None and now - oldest > limit:
            count = self.store.sever(older_than=now - limit)
            self.log.warning(
                f"queue statement waited over {limit:g} s; dropping its connection",
                extra={"action": "queue.statement_timeout", "count": count},
            )
        quiet, stall = now - self.store.last_ok, self.options.stall_seconds
        # probe only while it can still matter: a probe that would end past the stall threshold
        # only delays the reconnect (issue 16: detection took 9-10 s instead of 6)
        if max(self.options.interval, stall / 3) <= quiet < stall and await self._ping(
            stall - quiet
        ):
            self.store.last_ok = time.monotonic()
        quiet = time.monotonic() - self.store.last_ok
        if self.stalled_since is not None and self.store.last_ok > self._reset_at:
            await self._recovered()
        elif (
            quiet >= self.options.stall_seconds
            and now - self._reset_at >= self.options.stall_seconds
        ):
            await self._reconnect(quiet)

    async def _ping(self, within: float) -> bool:
        try:
            ok = await bounded(self._select_one(), min(self.options.stall_seconds / 2, within))
        except (psycopg.Error, OSError):
            ok = False
        if not ok and self._probe is not None:
            probe, self._probe = self._probe, None
            sever(probe)  # its socket is shut, so closing it cannot wait on the network
            await bounded(probe.close(), 1.0)
        return ok

    async def _select_one(self) -> None:
        if self._probe is None or self._probe.closed:
            self._probe = await psycopg.AsyncConnection.connect(
                self.pool.conninfo, **{**self.pool.kwargs, "autocommit": True}
            )
        await self._probe.execute("SELECT 1")

    async def _reconnect(self, quiet: float) -> None:
        first = self.stalled_since is None
        if first:
            self.stalled_since = self.store.last_ok
        self._reset_at = time.monotonic()
        severed = self.store.sever()
        self.log.warning(
            f"database unreachable for {quiet:.0f} s; reconnecting"
            if first
            else f"database still unreachable after {quiet:.0f} s; reconnecting",
            extra={
                "action": "queue.db_unreachable",
                "seconds": round(quiet, 1),
                "severed": severed,
            },
        )
        self.on_stall()
        await bounded(self.pool.drain(), 2.0)

    async def _recovered(self) -> None:
        assert self.stalled_since is not None
        seconds = time.monotonic() - self.stalled_since
        self.stalled_since, self.recovered_at = None, time.monotonic()
        self.log.warning(
            f"database reachable again after {seconds:.0f} s",
            extra={"action": "queue.db_reachable", "seconds": round(seconds, 1)},
        )
        if self.on_recover is not None:
            await bounded(self.on_recover(), self.options.stall_seconds)
