"""Contact policy benchmark (issue 12, section 5): on a database where a mailbox was imported
and extracted (`fluffymail import PATH --user U --extract`), the cost of one connection's
explanation (read on every poll of the connections page once it has synced), of the first page
of its people who wrote, and of re-applying a changed policy to all its mail, both ways.

Usage: DATABASE_URL=... .venv/bin/python bench/contact_policy_bench.py CONNECTION_ID
       [--repeat 20]
Prints JSON: medians in milliseconds, and the apply job's seconds and contacts shown/hidden.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import policy
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.jobs import apply_contact_policy
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue


async def _median_ms(repeat: int, run: Callable[[], Awaitable[Any]]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


async def _set(pool: AsyncConnectionPool, user_id: int, connection_id: int, value: Policy) -> None:
    async with pool.connection() as conn:
        await policy.set_policy(conn, user_id, connection_id, value)


async def main(connection_id: int, repeat: int) -> dict[str, Any]:
    settings = Settings()
    pool = AsyncConnectionPool(settings.database_url or "", min_size=1, max_size=4,
                               kwargs={"autocommit": True}, open=False)  # fmt: skip
    await pool.open(wait=True)
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT user_id FROM crm.connections WHERE id = %s", (connection_id,)
            )
        ).fetchone()
    assert row is not None, f"no connection {connection_id}"
    user_id = row[0]

    async def explain() -> None:
        async with pool.connection() as conn:
            await policy.explain(conn, user_id, connection_id)

    async def waiting() -> None:
        async with pool.connection() as conn:
            await policy.waiting(conn, user_id, connection_id, limit=50, offset=0)

    async with pool.connection() as conn:
        before = await policy.explain(conn, user_id, connection_id)
    assert before is not None
    out: dict[str, Any] = {
        "messages": before.counts.messages,
        "explain_ms_p50": await _median_ms(repeat, explain),
        "people_page_ms_p50": await _median_ms(repeat, waiting),
    }
    deps = JobDeps(settings=settings, pool=pool, queue=JobQueue(pool, listen=False),
                   log=logging.getLogger("bench"))  # fmt: skip
    args = apply_contact_policy.Args(connection_id=connection_id, user_id=user_id)
    for value in (Policy.SENT_AND_RECEIVED, Policy.SENT):
        await _set(pool, user_id, connection_id, value)
        start = time.perf_counter()
        result = await apply_contact_policy.apply_policy(deps, SystemClock(), args)
        out[f"apply_{value}"] = {
            "seconds": round(time.perf_counter() - start, 2),
            "shown": len(result.shown),
            "hidden": len(result.hidden),
        }
    await pool.close()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("connection_id", type=int)
    parser.add_argument("--repeat", type=int, default=20)
    ns = parser.parse_args()
    print(json.dumps(asyncio.run(main(ns.connection_id, ns.repeat)), indent=2))
