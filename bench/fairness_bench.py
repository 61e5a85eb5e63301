"""Fairness (issue 19): a big mailbox and a small one queued, then ONE worker: how soon the
small one is ranked.

    cd bench && ../.venv/bin/python fairness_bench.py --runs 3
    cd bench && ../.venv/bin/python fairness_bench.py --runs 3 --big-messages 146000  # 10x

Each run: a fresh migrated database; with no worker running, the real `fluffymail import` of
the big mailbox (default: the whole dev Enron corpus, `enron/`) for user A, then right after it
the small one (`enron/mbox/crandell-s`, 519 messages) for user B: the imports store the mail
and queue its extraction and analysis, A's first. Then ONE `fluffymail worker` with default
settings starts, and the bench polls the database every 0.2 s, timing from the worker's start
(its process launch; `registered_s` says when it was ready):
- `b_first_s`: B has scored relationships (what `fluffymail contacts top` lists);
- `b_ranked_s`: B's import fully ranked: every message of B extracted and folded into B's
  analysis (the analysis cursor at B's newest message), no extraction or analysis of B queued;
- `a_ranked_s`: the same for A (`--max-seconds` bounds the wait).
`--live import-end|a-analysis` is the case issue 19 first saw: the worker runs first, A's
import, then B's as soon as A's import ends, or once an analysis of A is running; times are
then from B's import launch (B's own import included: `b_connected_s` when the command had
started up and made its connection, `b_imported_s` when it ended).
`--big-messages N` replaces A's mailbox with N distinct messages replicated from the corpus
(`scale_bench.py`'s generator, as `pipeline_bench.py` uses). Medians over `--runs`. Run it with
`PYTHONPATH=<an older checkout>/src` to measure that version. Prints JSON.
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
from pathlib import Path
from typing import Any

import psycopg

import corpus
import scale_bench
from import_command import fresh_database, run_import

BIG_USER = "fair-big@bench.fluffymail"
SMALL_USER = "fair-small@bench.fluffymail"
POLL = 0.2
STATE = """
SELECT u.email,
       EXISTS (SELECT 1 FROM crm.relationships r JOIN crm.contacts c ON c.id = r.contact_id
               WHERE r.user_id = u.id AND c.merged_into_id IS NULL
                 AND c.suppressed_reason IS NULL AND c.created AND c.kind = 'person'),
       coalesce((SELECT last_message_id FROM crm.relationship_runs WHERE user_id = u.id), 0)
         >= coalesce((SELECT max(id) FROM crm.messages WHERE user_id = u.id), 0)
       AND EXISTS (SELECT 1 FROM crm.messages WHERE user_id = u.id)
       AND NOT EXISTS (SELECT 1 FROM crm.message_pending WHERE user_id = u.id)
       AND NOT EXISTS (SELECT 1 FROM crm.connections
                       WHERE user_id = u.id AND status = 'syncing')
       AND NOT EXISTS (SELECT 1 FROM queue.job j
                       WHERE j.state IN ('created', 'retry', 'active')
                         AND ((j.name = 'extract-contacts' AND j.group_key = 'user-' || u.id)
                           OR (j.name = 'analyze-relationships'
                               AND j.singleton_key = 'user-' || u.id)))
FROM crm.users u WHERE u.email = ANY(%s)
"""
JOBS = """
SELECT name, count(*), count(*) FILTER (WHERE state = 'failed'),
       round(sum(extract(epoch FROM completed_on - started_on))::numeric, 1),
       round(max(extract(epoch FROM completed_on - started_on))::numeric, 1)
FROM queue.job WHERE name IN ('extract-contacts', 'analyze-relationships', 'enrich-contact',
                              'summarize-relationship')
  AND started_on IS NOT NULL
GROUP BY name ORDER BY name
"""
SMALL_JOBS = """
SELECT j.name, round(extract(epoch FROM j.started_on - %(t0)s)::numeric, 2),
       round(extract(epoch FROM j.completed_on - %(t0)s)::numeric, 2)
FROM queue.job j, crm.users u
WHERE u.email = %(email)s AND j.started_on IS NOT NULL
  AND (j.group_key = 'user-' || u.id OR j.singleton_key = 'user-' || u.id)
  AND j.name IN ('extract-contacts', 'analyze-relationships')
ORDER BY j.started_on
"""


def big_mailbox(args: argparse.Namespace) -> Path:
    """The whole dev corpus, or `--big-messages` distinct messages replicated from it."""
    if not args.big_messages:
        return args.big
    path = args.work / f"fairness-{args.big_messages}.mbox"
    if not path.exists():
        args.work.mkdir(parents=True, exist_ok=True)
        scale_bench.build_mbox(path, scale_bench.corpus_messages(), args.big_messages)
    return path


def wait_registered(conn: psycopg.Connection[Any], started: float) -> float:
    while conn.execute("SELECT count(*) FROM queue.worker").fetchone() == (0,):
        if time.monotonic() - started > 60:
            raise TimeoutError("the worker did not register")
        time.sleep(0.05)
    return round(time.monotonic() - started, 2)


class Watch:
    """Polls A's and B's state; times in seconds from `origin` (a `time.monotonic()`)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn, self.origin, self.seen = conn, time.monotonic(), {}  # type: dict[str, Any]
        self.t0 = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]

    def restart(self) -> None:
        self.origin = time.monotonic()
        self.t0 = self.conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]

    def now(self) -> float:
        return round(time.monotonic() - self.origin, 2)

    def poll(self, max_seconds: float, until: tuple[str, ...]) -> None:
        keys = {BIG_USER: "a", SMALL_USER: "b"}
        while (now := self.now()) < max_seconds:
            for email, first, ranked in self.conn.execute(STATE, [list(keys)]).fetchall():
                who = keys[email]
                if first and f"{who}_first_s" not in self.seen:
                    self.seen[f"{who}_first_s"] = now
                if ranked and f"{who}_ranked_s" not in self.seen:
                    self.seen[f"{who}_ranked_s"] = now
            if all(k in self.seen for k in until):
                return
            time.sleep(POLL)

    def finish(self) -> dict[str, Any]:
        self.seen["jobs"] = self.conn.execute(JOBS).fetchall()
        # B's extraction and analysis jobs: (kind, started, completed) s after the origin
        params = {"t0": self.t0, "email": SMALL_USER}
        self.seen["b_jobs"] = self.conn.execute(SMALL_JOBS, params).fetchall()
        return self.seen


@contextlib.contextmanager
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "fluffymail", "worker"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def queued(url: str, env: dict[str, str], big: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Both imports with no worker, then ONE worker: times from its launch."""
    imported = {"a": run_import(big, env, BIG_USER), "b": run_import(args.small, env, SMALL_USER)}
    load = os.getloadavg()[0]
    with psycopg.connect(url, autocommit=True) as conn:
        watch = Watch(conn)
        with worker(env):
            watch.seen["registered_s"] = wait_registered(conn, watch.origin)
            watch.poll(args.max_seconds, ("a_ranked_s", "b_ranked_s"))
        seen = watch.finish()
    stored = {k: v["messages_stored"] for k, v in imported.items()}
    return {"stored": stored, "load_before": round(load, 2), **seen}


SMALL_IMPORT = """
SELECT round(extract(epoch FROM c.created_on - %(t0)s)::numeric, 2),
       round(extract(epoch FROM c.last_synced_on - %(t0)s)::numeric, 2)
FROM crm.connections c JOIN crm.users u ON u.id = c.user_id WHERE u.email = %(email)s
"""
A_ANALYSING = """
SELECT count(*) FROM queue.job j JOIN crm.users u ON j.singleton_key = 'user-' || u.id
WHERE u.email = %s AND j.name = 'analyze-relationships' AND j.state = 'active'
"""


def live(url: str, env: dict[str, str], big: Path, args: argparse.Namespace) -> dict[str, Any]:
    """ONE worker running; A's import, then B's when A's import ends (`import-end`) or when an
    analysis of A is running after it (`a-analysis`): times from B's import launch."""
    command = [sys.executable, "-m", "fluffymail", "import"]
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    with psycopg.connect(url, autocommit=True) as conn, worker(env):
        watch = Watch(conn)
        wait_registered(conn, watch.origin)
        subprocess.run([*command, str(big), "--user", BIG_USER], check=True, **quiet)  # type: ignore[call-overload]
        a_import_s = watch.now()
        while args.live == "a-analysis" and conn.execute(A_ANALYSING, [BIG_USER]).fetchone() == (
            0,
        ):
            time.sleep(0.1)
        load = os.getloadavg()[0]
        watch.restart()
        small = subprocess.Popen([*command, str(args.small), "--user", SMALL_USER], **quiet)  # type: ignore[call-overload]
        watch.poll(args.max_seconds, ("b_ranked_s",))
        small.wait()
        watch.seen["a_ranked_before_b"] = "a_ranked_s" in watch.seen
        # B's import command: when it had started up (made the connection) and when it ended
        row = conn.execute(SMALL_IMPORT, {"t0": watch.t0, "email": SMALL_USER}).fetchone()
        watch.seen["b_connected_s"], watch.seen["b_imported_s"] = row or (None, None)
        seen = watch.finish()
    return {"a_import_s": a_import_s, "load_before": round(load, 2), **seen}


def one_run(args: argparse.Namespace, big: Path) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as data,
        fresh_database(args.dsn, Path(data), prefix="fm_fair") as (url, env),
    ):
        result = live(url, env, big, args) if args.live else queued(url, env, big, args)
    return {**result, "load_after": round(os.getloadavg()[0], 2)}


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if len(values) == len(runs) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    enron = corpus.enron()
    parser.add_argument("--big", type=Path, default=enron, help="user A's mailbox")
    parser.add_argument("--small", type=Path, default=enron / "mbox" / "crandell-s")
    parser.add_argument("--big-messages", type=int, default=0, help="A: N replicated messages")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--work", type=Path, default=Path("/tmp/fm-fairness"))
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument(
        "--live",
        choices=("import-end", "a-analysis"),
        help="the worker runs first; B's import starts when A's ends, or once A is analysed",
    )
    parser.add_argument("--label", default="this branch")
    args = parser.parse_args()
    big = big_mailbox(args)
    runs = []
    for i in range(args.runs):
        runs.append(one_run(args, big))
        print(f"run {i + 1}: {json.dumps(runs[-1], default=str)}", file=sys.stderr, flush=True)
    keys = ("b_first_s", "b_ranked_s", "a_first_s", "a_ranked_s", "registered_s")
    result = {"label": args.label, "big": str(big), "small": str(args.small),
              "medians": {k: median(runs, k) for k in keys}, "runs": runs}  # fmt: skip
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
