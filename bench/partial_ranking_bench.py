"""How soon a ranking appears while a first import runs (issue 19: a partial answer ≤ 60 s).

    cd bench && ../.venv/bin/python partial_ranking_bench.py /work/shared/corpus/enron/mbox

Starts one `fluffymail worker` (default settings) on a fresh database, waits until it is
registered, then runs `fluffymail import PATH` and polls the database every 0.25 s: when the
user first has scored relationships (what `contacts top` lists), whether the import was still
running then, and the partial-ranking label at that moment; then the import's end. Run it with
`PYTHONPATH=<an older checkout>/src` to measure that version.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from import_command import fresh_database

USER = "partial-bench@example.com"
POLL = 0.25
FIRST = """
SELECT (SELECT count(*) FROM crm.relationships r WHERE r.user_id = u.id),
       EXISTS (SELECT 1 FROM crm.connections c WHERE c.user_id = u.id
               AND c.status = 'syncing' AND c.last_synced_on IS NULL),
       (SELECT count(*) FROM crm.messages m WHERE m.user_id = u.id)
FROM crm.users u WHERE u.email = %s
"""


def wait_for_worker(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM queue.worker").fetchone() == (0,):
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not register")
            time.sleep(0.2)


JOBS = """
SELECT name, state::text, round(extract(epoch FROM created_on - %(t0)s)::numeric, 1),
       round(extract(epoch FROM start_after - %(t0)s)::numeric, 1),
       round(extract(epoch FROM started_on - %(t0)s)::numeric, 1),
       round(extract(epoch FROM completed_on - %(t0)s)::numeric, 1),
       output -> 'cursor', output -> 'contacts', output -> 'pending'
FROM queue.job WHERE name = 'analyze-relationships' ORDER BY created_on
"""


def analyses(url: str, t0: Any) -> list[list[Any]]:
    """Each analysis job: state, created / start_after / started / completed (s after the
    import started), and its output's cursor range, contacts and pending messages."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [[str(v) if v is not None else None for v in row]
                for row in conn.execute(JOBS, {"t0": t0}).fetchall()]  # fmt: skip


def label(env: dict[str, str]) -> str:
    command = [
        sys.executable,
        "-m",
        "fluffymail",
        "contacts",
        "top",
        "--user",
        USER,
        "--limit",
        "1",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return " ".join(done.stdout.split())[:160]


def watch(url: str, env: dict[str, str], importer: subprocess.Popen[str]) -> dict[str, Any]:
    started, seen = time.monotonic(), {}
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(FIRST, (USER,)).fetchone()
            now = round(time.monotonic() - started, 2)
            if row and row[0] and "first_ranking_s" not in seen:
                seen |= {"first_ranking_s": now, "importing_then": row[1], "stored_then": row[2],
                         "relationships_then": row[0], "contacts_top": label(env)}  # fmt: skip
            if importer.poll() is not None and "import_done_s" not in seen:
                seen["import_done_s"] = now
            if "import_done_s" in seen and "first_ranking_s" in seen:
                return seen
            if now > 600:
                return seen
            time.sleep(POLL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--label", default="this branch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, fresh_database(args.dsn, Path(data)) as (url, env):
        worker = subprocess.Popen([sys.executable, "-m", "fluffymail", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            wait_for_worker(url)
            with psycopg.connect(url, autocommit=True) as conn:
                t0 = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
            command = [sys.executable, "-m", "fluffymail", "import", str(args.path), "--user", USER]
            importer = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, text=True)  # fmt: skip
            result = watch(url, env, importer)
            importer.wait()
            time.sleep(5)  # the analysis the import's end sends
            result["analyses"] = analyses(url, t0)
        finally:
            worker.terminate()
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    print(json.dumps({"label": args.label, **result}, indent=2))


if __name__ == "__main__":
    main()
