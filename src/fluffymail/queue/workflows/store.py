"""The workflow statements (`sql/*.sql`), executed through the queue's store; one round trip each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

from fluffymail.db.sql import load_sql
from fluffymail.queue.job import Lease
from fluffymail.queue.store import Conn, Store, dumps, int_array

SQL = load_sql("fluffymail.queue.workflows")


@dataclass(frozen=True, slots=True)
class StepRow:
    """A recorded step as a resuming run sees it."""

    name: str
    seq: int
    kind: str
    state: str
    attempts: int
    wake_at: datetime | None
    output: Any
    error: Any
    children: list[int] | None


def _json(value: Any) -> str | None:
    return None if value is None else dumps(value)


class WorkflowStore:
    """Workflow statements over the queue's `Store` (its pool, tracking and watchdog)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def _rows(
        self, name: str, params: dict[str, Any], conn: Conn | None = None
    ) -> list[tuple[Any, ...]]:
        return await self.store.execute(SQL[name], params, conn)

    async def load(self, run_id: int) -> tuple[dict[str, StepRow], datetime]:
        """The run's recorded steps by name, and the database's time."""
        rows = await self._rows("load_steps", {"id": run_id})
        steps = {row[0]: StepRow(*row[:9]) for row in rows if row[0] is not None}
        return steps, rows[0][9]

    async def save_step(
        self,
        lease: Lease,
        *,
        name: str,
        seq: int,
        kind: str,
        state: str,
        attempts: int,
        started_on: datetime | None,
        output: str | None = None,
        error: Any = None,
    ) -> bool:
        """Record a step's outcome (`output` already JSON); False if the lease is gone."""
        params = {
            "id": lease.id,
            "attempt": lease.attempt,
            "name": name,
            "seq": seq,
            "kind": kind,
            "state": state,
            "attempts": attempts,
            "started_on": started_on,
            "output": output,
            "error": _json(error),
        }
        return bool(await self._rows("save_step", params))

    async def suspend(
        self,
        lease: Lease,
        *,
        name: str,
        seq: int,
        kind: str,
        wake_at: datetime | None = None,
        event: str | None = None,
        match: Any = None,
        children: Sequence[int] | None = None,
        conn: Conn | None = None,
    ) -> bool:
        params = {
            "id": lease.id,
            "attempt": lease.attempt,
            "name": name,
            "seq": seq,
            "kind": kind,
            "wake_at": wake_at,
            "event": event,
            "match": _json(match),
            "children": None if children is None else int_array(children),
        }
        ((moved,),) = await self._rows("suspend_run", params, conn)
        return bool(moved)

    async def invoke(
        self, lease: Lease, queue: str, records: list[dict[str, Any]], *, name: str, seq: int
    ) -> bool:
        """Start child runs and suspend the parent on them, in one transaction."""
        async with self.store.pool.connection() as conn, conn.transaction():
            ids = await self.store.insert(queue, records, conn)
            return await self.suspend(
                lease, name=name, seq=seq, kind="invoke", children=ids, conn=conn
            )

    async def time_out(self, run_id: int, name: str) -> tuple[bool, Any]:
        """(True, None) if the wait timed out now, else (False, the event it got)."""
        params = {"id": run_id, "name": name}
        if await self._rows("time_out_wait", params):
            return True, None
        # an event took it first; a new statement sees what that event committed
        ((output,),) = await self._rows("get_step_output", params)
        return False, output

    async def children(self, ids: Sequence[int]) -> list[tuple[int, str | None, Any]]:
        return [
            (row[0], row[1], row[2])
            for row in await self._rows("get_children", {"ids": int_array(ids)})
        ]

    async def complete_child(self, lease: Lease, output: Any) -> bool:
        params = {"id": lease.id, "attempt": lease.attempt, "output": _json(output)}
        ((done,),) = await self._rows("complete_child", params)
        return bool(done)

    async def fail(self, lease: Lease, error: Any, *, final: bool) -> str | None:
        params = {"id": lease.id, "attempt": lease.attempt, "error": _json(error), "final": final}
        ((state,),) = await self._rows("fail_run", params)
        return state

    async def open_group(self, lease: Lease, *, name: str, seq: int) -> bool:
        """Open group step `name` of the lease's run; False if the lease is gone."""
        params = {"id": lease.id, "attempt": lease.attempt, "name": name, "seq": seq}
        ((opened,),) = await self._rows("open_group", params)
        return bool(opened)

    async def add_children(self, run_id: int, name: str, ids: Sequence[int], conn: Conn) -> None:
        """Count jobs `ids` (inserted in `conn`'s transaction) in run `run_id`'s open group."""
        await self._rows(
            "add_children", {"run_id": run_id, "name": name, "ids": int_array(ids)}, conn
        )

    async def close_group(self, lease: Lease, name: str) -> str | None:
        """'ready', 'waiting', or None (the group is not open, or the lease is gone)."""
        params = {"id": lease.id, "attempt": lease.attempt, "name": name}
        ((state,),) = await self._rows("close_group", params)
        return state

    async def group_summary(self, run_id: int, name: str) -> dict[str, int]:
        """How many of the jobs of run `run_id`'s group `name` ended in each state."""
        rows = await self._rows("group_summary", {"id": run_id, "name": name})
        return {state: count for state, count in rows}

    async def forget_failure(self, run_id: int, name: str) -> None:
        await self._rows("forget_step_failure", {"id": run_id, "name": name})

    async def cancel(self, ids: Sequence[int], conn: Conn | None = None) -> list[int]:
        return [row[0] for row in await self._rows("cancel_runs", {"ids": list(ids)}, conn)]

    async def send_event(self, event: str, data: Any, conn: Conn | None = None) -> int:
        ((woken,),) = await self._rows("send_event", {"event": event, "data": dumps(data)}, conn)
        return int(woken)

    async def add_cancel_on(self, run_id: int, rules: list[dict[str, Any]], conn: Conn) -> None:
        await self._rows("add_cancel_on", {"id": run_id, "rules": dumps(rules)}, conn)

    async def unfinished(self, limit: int) -> list[dict[str, Any]]:
        async with self.store.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await (await cur.execute(SQL["list_unfinished"], {"limit": limit})).fetchall()

    async def steps(self, run_id: int) -> list[dict[str, Any]]:
        async with self.store.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await (await cur.execute(SQL["get_steps"], {"id": run_id})).fetchall()
