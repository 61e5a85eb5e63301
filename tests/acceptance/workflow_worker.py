"""A worker process for the workflow acceptance test: `python -m tests.acceptance.workflow_worker`.

Runs workflow `acc-flow`: `args["steps"]` steps, each recording its side effect in
`acc_wf_effect` and then taking `args["pause"]` seconds (the window a SIGKILL lands in).
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import JobQueue
from fluffymail.queue.workflows import Step, Workflows

EFFECTS = "CREATE TABLE IF NOT EXISTS acc_wf_effect (run_id bigint, step text, pid int)"


async def main() -> None:
    pool = AsyncConnectionPool(os.environ["DATABASE_URL"], kwargs={"autocommit": True}, open=False)
    await pool.open()
    queue = JobQueue(pool, poll_interval=0.2, rescue_interval=0.5, heartbeat_interval=0.5)
    wf = Workflows(queue)

    @wf.define("acc-flow", heartbeat_seconds=2, retry_limit=3)
    async def flow(step: Step, args: dict[str, Any]) -> Any:
        async def effect(name: str) -> str:
            async with pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO acc_wf_effect VALUES (%s, %s, %s)",
                    (step.run_id, name, os.getpid()),
                )
            await asyncio.sleep(args["pause"])
            return name

        done = [await step.run(f"s{i}", effect, f"s{i}") for i in range(args["steps"])]
        return {"steps": len(done), "pid": os.getpid()}

    await wf.work("acc-flow", concurrency=4)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await queue.stop(grace=2)
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
