"""IMAP sync benchmark: FluffyMail's initial sync vs a raw imapclient fetch of the same messages.

Usage: .venv/bin/python bench/imap_bench.py [--repeats 3] [--limit N] [--batch 200]
       [--baseline REV] [--dsn postgresql://postgres@127.0.0.1/test] [--out FILE.json]
Starts Dovecot on a loopback port (the tests' configuration) with the corpus (~17k real
messages, two folders) in one user's Maildir, then alternates, on the same server:
  raw  - one imapclient connection: per folder SELECT, UID SEARCH ALL and UID FETCH
         BODY.PEEK[] FLAGS INTERNALDATE in batches of --batch UIDs (nothing parsed or stored);
  sync - FluffyMail's initial sync through the real path: a fresh migrated database,
         `fluffymail connections imap` (saves the connection, enqueues its sync) and
         `fluffymail worker --queues sync-emails:1`; the rate is the job's own `seen /
         seconds` (connect to last commit; worker start-up is not counted).
With --baseline REV, the worker of that revision (its src/, extracted with git archive) syncs
too, interleaved. Each sync's ratio is its rate over the mean of the raw runs either side of
it; the CPU seconds of the worker's processes, PostgreSQL and Dovecot during the job are
recorded with it (PostgreSQL: all backends, other sessions' included). Prints JSON
(and writes it to --out); the issue's bar (21): median ratio >= 0.6.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from imapclient import IMAPClient

import dovecot
import import_command

BAR = 0.6
ROOT = Path(__file__).resolve().parents[1]


def raw_fetch(server: dovecot.Server, batch: int) -> dict[str, Any]:
    """Fetch every message of every folder as FluffyMail does, parsing and storing nothing."""
    started = time.perf_counter()
    messages = size = 0
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=60)
    client.login(dovecot.USER, dovecot.PASSWORD)
    for folder in server.messages:
        client.select_folder(folder, readonly=True)
        uids = sorted(client.search("ALL"))
        for i in range(0, len(uids), batch):
            fetched = client.fetch(uids[i : i + batch], [b"BODY.PEEK[]", b"FLAGS", b"INTERNALDATE"])
            messages += len(fetched)
            size += sum(len(data[b"BODY[]"]) for data in fetched.values())
    client.logout()
    seconds = time.perf_counter() - started
    return {"messages": messages, "bytes": size, "seconds": round(seconds, 3),
            "msgs_per_s": round(messages / seconds)}  # fmt: skip


def fluffymail_sync(
    server: dovecot.Server, dsn: str, profile: Path | None = None, src: Path | None = None
) -> dict[str, Any]:
    """One initial sync into a fresh database by a real worker process (running the code in
    `src` when given, else this checkout's); the job's figures."""
    # the baseline's database gets the baseline's migrations (before, both had this tree's)
    code = {"PYTHONPATH": str(src)} if src is not None else None
    with (
        tempfile.TemporaryDirectory() as data,
        import_command.fresh_database(dsn, Path(data), extra_env=code) as (url, env),
    ):
        env = {**env, "FLUFFYMAIL_OUTBOUND_ALLOW": server.host,
               "FLUFFYMAIL_OUTBOUND_PORTS": str(server.port)}  # fmt: skip
        fm = [sys.executable, "-m", "fluffymail"]
        add_connection(server, env)
        worker_cmd = [*fm, "worker", "--queues", "sync-emails:1"]
        if profile is not None:
            spy = os.environ.get("PY_SPY", "py-spy")
            worker_cmd = [spy, "record", "-o", str(profile), "-f", "raw", "-s",
                          "-r", "100", "--", *worker_cmd]  # fmt: skip
        worker = subprocess.Popen(worker_cmd, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)  # fmt: skip
        try:
            output, started_on, completed_on, cpu = _wait_for_sync(url, worker, server)
        finally:
            worker.send_signal(signal.SIGINT if profile is not None else signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM crm.messages").fetchone()
    assert row is not None
    seen, seconds = output["seen"], output["seconds"]
    return {
        "seen": seen,
        "stored": output["stored"],
        "messages_in_db": row[0],
        "seconds": seconds,
        "msgs_per_s": round(seen / seconds),
        "job_wall_seconds": round((completed_on - started_on).total_seconds(), 3),
        "cpu_seconds": cpu,
    }


def add_connection(server: dovecot.Server, env: dict[str, str]) -> None:
    """A user and the server's IMAP account as their connection, with the CLI (which queues
    the connection's first sync)."""
    fm = [sys.executable, "-m", "fluffymail"]
    subprocess.run([*fm, "users", "create", "bench@example.com", "--password", "bench-pass"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    added = subprocess.run(
        [*fm, "connections", "imap", "--user", "bench@example.com", "--host", server.host,
         "--port", str(server.port), "--security", "plain", "--username", dovecot.USER,
         "--password-stdin"],
        input=dovecot.PASSWORD + "\n", env=env, capture_output=True, text=True,
    )  # fmt: skip
    if added.returncode != 0:
        raise RuntimeError(f"adding the connection failed: {added.stdout}{added.stderr}")


# The sync's read: the job itself (a revision before the pipeline's workflow run), or the read
# step of its run (the run then waits for extraction, which this bench's worker does not run).
READ_DONE = """
SELECT CASE WHEN s.state = 'completed' THEN 'completed' ELSE j.state::text END,
       coalesce(s.output, j.output), j.started_on, coalesce(s.finished_on, j.completed_on)
FROM queue.job j
LEFT JOIN queue.workflow_step s ON s.run_id = j.id AND s.name = 'sync' AND s.state = 'completed'
WHERE j.name = 'sync-emails' ORDER BY j.id LIMIT 1
"""


def _wait_for_sync(
    url: str, worker: subprocess.Popen[bytes], server: dovecot.Server
) -> tuple[dict[str, Any], Any, Any, dict[str, float]]:
    """The read's output, start and end once it completed, and the CPU seconds each party
    used from when the job started (polled every 20 ms) to when its read completed."""
    deadline = time.monotonic() + 900
    before: dict[str, float] | None = None
    database = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(READ_DONE).fetchone()
            if row is not None and row[0] in ("completed", "failed", "cancelled"):
                if row[0] != "completed" or row[1].get("status") != "ok":
                    raise RuntimeError(f"sync ended {row[0]}: {row[1]}")
                after = _cpu(worker.pid, server.pid, database)
                spent = {k: round(after[k] - (before or {}).get(k, 0.0), 2) for k in after}
                return row[1], row[2], row[3], spent
            if before is None and row is not None and row[0] == "active":
                before = _cpu(worker.pid, server.pid, database)
            if worker.poll() is not None:
                stderr = worker.stderr.read().decode() if worker.stderr else ""
                raise RuntimeError(f"worker exited {worker.returncode}: {stderr[-2000:]}")
            time.sleep(0.02)
    raise RuntimeError("the sync did not finish within 15 minutes")


def _cpu(worker: int, server: int, database: str) -> dict[str, float]:
    """CPU seconds (user + system) so far of the worker's process tree (`worker_main`: its
    own process, without the parser child), Dovecot's, every
    `postgres` process (live ones only; other sessions' backends count too) and, of those,
    the backends connected to the sync's `database` (`postgres_sync`: the worker's own)."""
    ticks = os.sysconf("SC_CLK_TCK")
    workers, dovecots = set(dovecot.family(worker)), set(dovecot.family(server))
    total = {"worker": 0, "worker_main": 0, "postgres": 0, "postgres_sync": 0, "dovecot": 0}
    backend = f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        used = int(fields[11]) + int(fields[12])
        pid = int(entry.name)
        if pid == server:  # its imap processes have exited (and been reaped) by the end
            used += int(fields[13]) + int(fields[14])
        if pid in workers:
            total["worker"] += used
            if pid == worker:  # the rest of its tree is the parser process
                total["worker_main"] += used
        elif pid in dovecots:
            total["dovecot"] += used
        elif name.startswith("postgres"):
            total["postgres"] += used
            with contextlib.suppress(OSError):
                if backend in (entry / "cmdline").read_bytes():
                    total["postgres_sync"] += used
    return {k: v / ticks for k, v in total.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="messages (default: all)")
    parser.add_argument("--batch", type=int, default=200, help="raw fetch: UIDs per FETCH")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the first sync here")
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--baseline", default=None, help="also sync with this git revision, interleaved"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(_checkout(args.baseline)) if args.baseline else None
        result = run(args, base)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


@contextlib.contextmanager
def _checkout(revision: str) -> Iterator[Path]:
    """`src/` of `revision`, extracted to a temporary directory (git state untouched)."""
    with tempfile.TemporaryDirectory(prefix="fm-imap-base-") as tmp:
        archive = subprocess.run(["git", "archive", revision, "src"], cwd=ROOT, check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield Path(tmp) / "src"


def run(args: argparse.Namespace, base: Path | None) -> dict[str, Any]:
    """Raw fetches and syncs interleaved on one server; each sync's ratio is its rate over
    the mean of the raw fetches either side of it."""
    kinds = ["current", "baseline"] if base is not None else ["current"]
    syncs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    with dovecot.running(args.limit) as server:
        print(f"dovecot on {server.port}: {server.messages}", file=sys.stderr)
        raw_fetch(server, args.batch)  # warm-up: Dovecot builds its indexes, caches fill
        raws = [raw_fetch(server, args.batch)]
        for i in range(args.repeats):
            for kind in kinds:
                src = base if kind == "baseline" else None
                profile = args.profile if i == 0 and kind == "current" else None
                sync = fluffymail_sync(server, args.dsn, profile, src)
                raws.append(raw_fetch(server, args.batch))
                around = statistics.mean(r["msgs_per_s"] for r in raws[-2:])
                sync["ratio"] = round(sync["msgs_per_s"] / around, 3)
                syncs[kind].append(sync)
                print(f"{kind}: raw {raws[-2]['msgs_per_s']} / sync {sync['msgs_per_s']} / "
                      f"raw {raws[-1]['msgs_per_s']} msgs/s: {sync['ratio']}",
                      file=sys.stderr)  # fmt: skip
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": _revision(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "messages": server.messages,
        "raw_batch": args.batch,
        "baseline": args.baseline,
        "raw": raws,
        "median_raw_msgs_per_s": statistics.median(r["msgs_per_s"] for r in raws),
        "bar": BAR,
        **{kind: _summary(runs) for kind, runs in syncs.items()},
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = [run["ratio"] for run in runs]
    return {
        "runs": runs,
        "ratios": ratios,
        "median_ratio": statistics.median(ratios),
        "median_msgs_per_s": statistics.median(run["msgs_per_s"] for run in runs),
        "passes": statistics.median(ratios) >= BAR,
    }


def _revision() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True)  # fmt: skip
    return done.stdout.strip()


if __name__ == "__main__":
    main()
