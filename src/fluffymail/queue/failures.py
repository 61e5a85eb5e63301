"""Failed attempts recorded together: those that fail in one turn of the event loop (every job
of a failed batch, concurrent handlers failing at once) go to the database in one statement."""

from __future__ import annotations

import asyncio
from typing import Any

from fluffymail.queue.job import Lease
from fluffymail.queue.store import Store

Row = tuple[Any, ...]  # fail_jobs: id, name, state, retry_count, dead_letter_id


class FailBuffer:
    """Gathers `fail` calls made before the event loop's next turn into one `store.fail`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[Lease, Any, asyncio.Future[list[Row]]]] = []
        self._flush: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()  # strong references while in flight

    async def fail(self, lease: Lease, error: Any) -> list[Row]:
        """Fail one attempt; returns its fail_jobs rows (none if its lease was stale)."""
        future: asyncio.Future[list[Row]] = asyncio.get_running_loop().create_future()
        self._pending.append((lease, error, future))
        if self._flush is None:
            self._flush = asyncio.create_task(self._send(), name="queue.fail")
            self._sending.add(self._flush)
            self._flush.add_done_callback(self._sending.discard)
        return await asyncio.shield(future)

    async def _send(self) -> None:
        await asyncio.sleep(0)  # let the other failures of this turn join
        pending, self._pending, self._flush = self._pending, [], None
        try:
            rows = await self.store.fail([p[0] for p in pending], [p[1] for p in pending])
        except Exception as exc:
            for _, _, future in pending:
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: a waiter that left must not warn
            return
        by_id: dict[int, list[Row]] = {}
        for row in rows:
            by_id.setdefault(row[0], []).append(row)
        for lease, _, future in pending:
            if not future.done():
                future.set_result(by_id.get(lease.id, []))
