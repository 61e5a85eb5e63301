"""Stall benchmark: seconds from freezing the IMAP server mid-sync to the connection reading "stalled".

Usage: .venv/bin/python bench/imap_stall_bench.py [--runs 5] [--limit 4000]
       [--dsn postgresql://postgres@127.0.0.1/test] [--out FILE.json]
Per run: Dovecot on a loopback port with --limit corpus messages, a fresh database, the
account added with `fluffymail connections imap` and synced by `fluffymail worker --queues
sync-emails:1`. Once the first batch has committed, every Dovecot process is stopped
(SIGSTOP: sockets stay open, nothing answers) and the connection is read every 100 ms the way
the connections page and API read it (`web.services.connections.get_connection`) until its
state is "stalled"; then the server resumes and the sync must still finish. Prints JSON; the
issue's bar (21): "stalled" within 10 s of the freeze (median over the runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

import dovecot
import import_command
from fluffymail.web.services import connections as connections_service
from imap_bench import add_connection

BAR = 10.0


def one_run(server: dovecot.Server, dsn: str) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as data,
        import_command.fresh_database(dsn, Path(data)) as (url, env),
    ):
        env = {**env, "FLUFFYMAIL_OUTBOUND_ALLOW": server.host,
               "FLUFFYMAIL_OUTBOUND_PORTS": str(server.port)}  # fmt: skip
        add_connection(server, env)
        worker = subprocess.Popen(
            [sys.executable, "-m", "fluffymail", "worker", "--queues", "sync-emails:1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            return asyncio.run(_freeze_and_watch(server, url, *_ids(url)))
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


async def _freeze_and_watch(
    server: dovecot.Server, url: str, user_id: int, connection_id: int
) -> dict[str, Any]:
    async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
        return await _watch(server, pool, user_id, connection_id)


async def _watch(
    server: dovecot.Server, pool: AsyncConnectionPool, user_id: int, connection_id: int
) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while view := await connections_service.get_connection(pool, user_id, connection_id):
        if view.seen_count and view.status == "syncing":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sync did not start: {view}")
        await asyncio.sleep(0.05)
    pids = server.freeze()
    frozen_at = time.monotonic()
    seen_at_freeze = view.seen_count
    try:
        while True:
            view = await connections_service.get_connection(pool, user_id, connection_id)
            if view.state == "stalled":
                stalled_after = time.monotonic() - frozen_at
                break
            if time.monotonic() - frozen_at > 120:
                raise RuntimeError(f"not stalled 120 s after the freeze: {view}")
            await asyncio.sleep(0.1)
    finally:
        server.thaw(pids)
    resumed = time.monotonic()
    while view := await connections_service.get_connection(pool, user_id, connection_id):
        if view.status != "syncing":
            break
        if time.monotonic() - resumed > 300:
            raise RuntimeError("the sync did not finish after the server resumed")
        await asyncio.sleep(0.2)
    return {
        "stalled_after_seconds": round(stalled_after, 2),
        "seen_at_freeze": seen_at_freeze,
        "state_after_resume": view.state,
        "seen_at_end": view.seen_count,
        "finished_after_resume_seconds": round(time.monotonic() - resumed, 2),
    }


def _ids(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT user_id, id FROM crm.connections").fetchone()
    assert row is not None
    return row[0], row[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=4000, help="messages on the server")
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    runs = []
    with dovecot.running(args.limit) as server:
        for _ in range(args.runs):
            runs.append(one_run(server, args.dsn))
            print(json.dumps(runs[-1]), file=sys.stderr)
    seconds = [run["stalled_after_seconds"] for run in runs]
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "messages": server.messages,
        "runs": runs,
        "median_seconds": statistics.median(seconds),
        "range_seconds": [min(seconds), max(seconds)],
        "bar_seconds": BAR,
        "passes": statistics.median(seconds) <= BAR,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
