"""An Enron mailbox imported as one workflow run, its progress sampled as the Connections page
shows it (issue 17: "the Enron import of one mailbox runs as a workflow end to end; its page
shows progress").

    cd bench && ../.venv/bin/python import_progress_bench.py /work/shared/corpus/enron/mbox/allen-p

On a fresh database: starts one `fluffymail worker` (default settings), then runs
`fluffymail import PATH --user U` (the run executes in the command's process; the worker finds
the people and the command follows the run to its end), while this process reads the
connection's progress every 0.25 s through the web app's own service (`sync_progress`, what
`GET /api/connections` and the page render). Prints the timeline: when each phase was first
seen, the samples of each, the batches and counts at the end, the run's steps, and whether the
ETA shown was within a factor of two of the time the phase really took.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from import_command import fresh_database
from partial_ranking_bench import wait_for_worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fluffymail.queue import JobQueue
from fluffymail.web.services import connections, sync_progress

USER = "progress-bench@example.com"
POLL = 0.25


async def sample(url: str, until: asyncio.Event) -> list[dict[str, Any]]:
    """The connection's progress as the page shows it, every POLL seconds."""
    samples: list[dict[str, Any]] = []
    started = time.monotonic()
    async with AsyncConnectionPool(url, kwargs={"autocommit": True}, open=False) as pool:
        queue = JobQueue(pool, listen=False)
        while not until.is_set():
            await asyncio.sleep(POLL)
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT id FROM crm.users WHERE email = %s", (USER,))
                row = await cur.fetchone()
            if row is None:
                continue
            views = await connections.list_connections(pool, row[0])
            now = await connections.db_now(pool)
            syncs = await connections.recent_syncs(queue)
            views = await sync_progress.with_progress(pool, queue, row[0], views, now, syncs)
            for view in views:
                shown = view.progress.as_dict() if view.progress else None
                samples.append({"t": round(time.monotonic() - started, 2), "status": view.status,
                                "read": view.seen_count, "progress": shown})  # fmt: skip
    return samples


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    phases: dict[str, dict[str, Any]] = {}
    for s in samples:
        p = s["progress"]
        phase = p["phase"] if p else ("idle" if s["status"] == "ok" else s["status"])
        entry = phases.setdefault(phase, {"first_at": s["t"], "samples": 0, "etas": []})
        entry["samples"] += 1
        entry["last_at"] = s["t"]
        if p and p["eta_seconds"] is not None:
            entry["etas"].append((s["t"], p["eta_seconds"]))
    for name, entry in phases.items():
        etas, end = entry.pop("etas"), entry["last_at"]
        if etas:  # the first ETA shown against the time the phase then took
            t, eta = etas[len(etas) // 4]
            entry["eta_shown_s"], entry["took_after_it_s"] = eta, round(end - t, 2)
            entry["eta_within_2x"] = (end - t) / 2 <= eta <= 2 * (end - t) if end > t else None
        phases[name] = entry
    last = next((s["progress"] for s in reversed(samples) if s["progress"]), None)
    return {"phases": phases, "last_progress": last}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, fresh_database(args.dsn, Path(data)) as (url, env):
        worker = subprocess.Popen([sys.executable, "-m", "fluffymail", "worker"], env=env)  # noqa: ASYNC220
        try:
            await asyncio.to_thread(wait_for_worker, url)
            until = asyncio.Event()
            sampler = asyncio.create_task(sample(url, until))
            started = time.monotonic()
            command = [sys.executable, "-m", "fluffymail", "import", str(args.path), "--user", USER]
            done = await asyncio.to_thread(
                subprocess.run, command, env=env, capture_output=True, text=True, check=True
            )
            wall = time.monotonic() - started
            await asyncio.sleep(1)
            until.set()
            samples = await sampler
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        async with AsyncConnectionPool(url, kwargs={"autocommit": True}, open=False) as pool:
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT id, output FROM queue.job WHERE name = 'sync-emails' ORDER BY id DESC LIMIT 1"
                )
                run_id, output = await cur.fetchone()
                cur = await conn.execute(
                    "SELECT name, kind, state, attempts, round(extract(epoch FROM finished_on -"
                    " started_on)::numeric, 2)::float FROM queue.workflow_step WHERE run_id = %s"
                    " ORDER BY seq", (run_id,))  # fmt: skip
                steps = [list(r) for r in await cur.fetchall()]
    result = {
        "path": str(args.path),
        "import_wall_s": round(wall, 2),
        "load": os.getloadavg()[0],
        "run": {"id": run_id, "output": output, "steps": steps},
        **summarise(samples),
        "command_tail": done.stdout.strip().splitlines()[:2],
    }
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    asyncio.run(main())
