"""Capacity model for SCALING.md: import a mailbox, then run one `fluffymail worker` until every
queue is drained, and measure per message the worker's and PostgreSQL's CPU, the WAL written
for this database, and the connections each process held.

Usage: .venv/bin/python bench/capacity_bench.py [PATH] [--dsn postgresql://postgres@127.0.0.1/test]
       [--wal-dir /var/lib/postgresql/15/main/pg_wal]
Prints JSON. PostgreSQL CPU is the sum over the backends serving this database (sampled from
/proc every 0.2 s, so it needs the server on this machine and read access to /proc); WAL bytes
are the records pg_waldump finds for this database's relations between the phase's LSNs (plus
the server-wide LSN delta, which includes other databases' writes, as an upper bound).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

import corpus
import import_command
from import_command import fresh_database

TICK = os.sysconf("SC_CLK_TCK")
ME = {"application_name": "capacity_bench"}  # the bench's own connections, not counted
WALDUMP = "/usr/lib/postgresql/15/bin/pg_waldump"
_LEN = re.compile(r"rmgr: (\S+)\s+len \(rec/tot\):\s*(\d+)/\s*(\d+)")


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


class Backends(threading.Thread):
    """Samples the CPU of every backend of one database, and the connections per application."""

    def __init__(self, url: str, dbname: str) -> None:
        super().__init__(daemon=True)
        self.url, self.dbname = url, dbname
        self.cpu: dict[int, float] = {}
        self.start_cpu: dict[int, float] = {}
        self.peak_connections: dict[str, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, **ME) as conn:
            me = conn.info.backend_pid
            while not self.done.is_set():
                rows = conn.execute(
                    "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s",
                    (self.dbname,),
                ).fetchall()
                per_app: dict[str, int] = {}
                for pid, app in rows:
                    if pid == me or app == "capacity_bench":
                        continue
                    per_app[app] = per_app.get(app, 0) + 1
                    if (seconds := cpu_seconds(pid)) is not None:
                        self.start_cpu.setdefault(pid, seconds)
                        self.cpu[pid] = seconds
                for app, n in per_app.items():
                    self.peak_connections[app] = max(self.peak_connections.get(app, 0), n)
                time.sleep(0.2)

    def total(self) -> float:
        # a backend first seen mid-run lost its CPU before the first sample (small: <= 0.2 s)
        return sum(self.cpu[pid] - self.start_cpu.get(pid, 0.0) for pid in self.cpu)


def lsn(url: str) -> str:
    with psycopg.connect(url, autocommit=True, **ME) as conn:
        return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]


def wal_bytes(url: str, start: str, end: str, wal_dir: str) -> dict[str, Any]:
    """Bytes of WAL records touching this database's relations between two LSNs."""
    with psycopg.connect(url, autocommit=True, **ME) as conn:
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        db_oid = oid.fetchone()[0]  # type: ignore[index]
        total = conn.execute("SELECT pg_wal_lsn_diff(%s, %s)", (end, start)).fetchone()[0]  # type: ignore[index]
    mine, without_fpi, records, error = 0, 0, 0, ""
    by_rmgr: dict[str, int] = {}
    marker = f"/{db_oid}/"
    command = [WALDUMP, "-p", wal_dir, "-s", start, "-e", end]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as dump:  # fmt: skip
        assert dump.stdout is not None and dump.stderr is not None
        for line in dump.stdout:
            records += 1
            if marker in line and (match := _LEN.search(line)):
                mine += int(match[3])
                without_fpi += int(match[2])
                by_rmgr[match[1]] = by_rmgr.get(match[1], 0) + int(match[3])
        error = dump.stderr.read().strip()[-300:]
    return {"database_wal_bytes": mine, "database_wal_bytes_without_fpi": without_fpi,
            "database_wal_bytes_by_rmgr": by_rmgr, "server_wal_bytes": int(total),
            "wal_records_read": records, "waldump_error": error}  # fmt: skip


def drained(url: str) -> bool:
    """No job is due or running (future-dated schedule ticks do not count)."""
    with psycopg.connect(url, autocommit=True, **ME) as conn:
        row = conn.execute(
            "SELECT count(*) FROM queue.job WHERE state IN ('created', 'retry', 'active')"
            " AND start_after < now() + interval '90 seconds'"
        ).fetchone()
    return row is not None and row[0] == 0


def phase(url: str, dbname: str, wal_dir: str, run: Any) -> dict[str, Any]:
    # Other databases' DROPs force checkpoints that recycle WAL within seconds: a temporary
    # replication slot keeps this phase's WAL until pg_waldump has read it (gone with `hold`).
    hold = psycopg.connect(url, autocommit=True, **ME)
    hold.execute("SELECT pg_create_physical_replication_slot(%s, true, true)",
                 (f"capacity_bench_{os.getpid()}",))  # fmt: skip
    sampler = Backends(url, dbname)
    sampler.start()
    start = lsn(url)
    before = os.times()
    started = time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    after = os.times()
    sampler.done.set()
    sampler.join()
    end = lsn(url)
    try:
        wal = wal_bytes(url, start, end, wal_dir)
    finally:
        hold.close()
    return {
        **(result or {}),
        "wall_seconds": round(wall, 1),
        "client_cpu_seconds": round(
            after.children_user
            + after.children_system
            - before.children_user
            - before.children_system,
            1,
        ),
        "postgres_cpu_seconds": round(sampler.total(), 1),
        "peak_connections": sampler.peak_connections,
        **wal,
    }


def work_until_drained(env: dict[str, str], url: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "fluffymail", "worker"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        time.sleep(2)
        quiet = 0
        while quiet < 3:  # drained on three checks in a row, a second apart
            time.sleep(1)
            quiet = quiet + 1 if drained(url) else 0
        worker.terminate()
        worker.wait(60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    return {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", type=Path, default=corpus.enron() / "mbox")
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--wal-dir", default="/var/lib/postgresql/15/main/pg_wal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.dsn, Path(tmp)) as (url, env):
        dbname = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        env = {**env, "FLUFFYMAIL_ENRICH_DEBOUNCE": "1", "FLUFFYMAIL_ANALYZE_DEBOUNCE": "0"}
        imported = phase(url, str(dbname), args.wal_dir,
                         lambda: import_command.run_import(args.path, env, "bench@example.com"))  # fmt: skip
        worked = phase(url, str(dbname), args.wal_dir, lambda: work_until_drained(env, url))
        with psycopg.connect(url, autocommit=True, **ME) as conn:
            messages = conn.execute("SELECT count(*) FROM crm.messages").fetchone()[0]  # type: ignore[index]
            jobs = dict(conn.execute("SELECT name, count(*) FROM queue.job GROUP BY 1").fetchall())
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    per = {
        phase_name: {
            "client_cpu_ms_per_msg": round(1000 * p["client_cpu_seconds"] / messages, 2),
            "postgres_cpu_ms_per_msg": round(1000 * p["postgres_cpu_seconds"] / messages, 2),
            "wal_bytes_per_msg": round(p["database_wal_bytes"] / messages),
            "wal_bytes_per_msg_without_fpi": round(p["database_wal_bytes_without_fpi"] / messages),
        }
        for phase_name, p in (("import", imported), ("worker", worked))
    }
    print(json.dumps({"path": str(args.path), "messages": messages, "jobs": jobs,
                      "database_bytes": size, "import": imported, "worker": worked,
                      "per_message": per}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
