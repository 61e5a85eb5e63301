"""Pipeline benchmark (issue 19): a mailbox of N messages through import → extract → enrich →
analyze with one `fluffymail worker`, per-stage rates, the first ranking and the total.

Usage: .venv/bin/python bench/pipeline_bench.py [--messages 100000 | --corpus]
           [--work /tmp/fm-pipeline] [--dsn postgresql://postgres@127.0.0.1/test]
           [--max-seconds 3600] [--summaries] [--incremental 100] [--keep]
           [--policy sent_and_received]

A fresh migrated database; the worker service starts with its default settings, then the real
`fluffymail import` command reads the mailbox (an mbox of N distinct messages made by
replicating the Enron corpus, as `scale_bench.py` does; `--corpus` imports the Enron corpus
itself, one mailbox per person). Every second the bench reads the queue's tables and the user's
relationships, and the RSS of the worker's process tree. It records:
- `first_ranking_s`: seconds from the start until the user's top contacts are non-empty
  (what `fluffymail contacts top` would show), and how many messages were stored by then;
- `ranked_s`: until the last extraction, enrichment or analysis job (or the run's own analysis
  step) finished, once the run's read and analysis are done and no such job is queued or
  running (the mailbox fully ranked); `searchable_s`: until the run ended, its mail's search
  rows written; `summaries_s` (when the watcher saw no summary job left) with `--summaries`;
- per stage (queue): jobs done, first start, last finish, busy seconds, failed;
- `worker_peak_rss_mb`: the largest single process and the largest whole-tree sum.
`--policy` sets the import connection's contact policy first (the generated mailbox's owner
never writes: under the default `sent` no contact is listed, which leaves the contacts page
nothing to measure). `--incremental N` then appends N new messages and imports again with the worker still running:
seconds until they are stored, extracted and the user re-scored.
Issue 19's bars at 1M messages: fully ranked ≤ 15 min, first ranking ≤ 60 s, worker RSS ≤ 500 MB.
Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg

import corpus
import scale_bench
from import_command import _SUMMARY, fresh_database

USER = "pipeline@bench.fluffymail"
# what ranks the mailbox: the run's read (sync-emails) and analysis, and these jobs; the run
# then writes the search rows of its mail (index-messages), after its people and scores
PEOPLE = ("extract-contacts", "enrich-contact", "analyze-relationships")
RANKING = ("sync-emails", *PEOPLE)
SEARCH = ("index-messages",)
SUMMARIES = ("summarize-relationship",)


@dataclass
class Timeline:
    started: float = field(default_factory=time.perf_counter)
    first_ranking_s: float | None = None
    stored_at_first_ranking: int | None = None
    import_ended_s: float | None = None
    ranked_s: float | None = None
    searchable_s: float | None = None
    summaries_s: float | None = None
    peak_process_mb: float = 0.0
    peak_tree_mb: float = 0.0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def now(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def pending(conn: psycopg.Connection[Any], names: tuple[str, ...]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM queue.job WHERE name = ANY(%s) AND state IN ('created', 'retry',"
        " 'active')",
        [list(names)],
    ).fetchone()
    return int(row[0]) if row else 0


def run_analysed(conn: psycopg.Connection[Any]) -> bool:
    """Whether a sync run's read and analysis steps are done."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE name = 'sync' AND state = 'completed') > 0"
        "   AND count(*) FILTER (WHERE name = 'analyze' AND state = 'completed') > 0"
        " FROM queue.workflow_step"
    ).fetchone()
    return bool(row and row[0])


def last_finish(
    conn: psycopg.Connection[Any], names: tuple[str, ...], steps: tuple[str, ...]
) -> Any:
    """The last finish of a job named `names` or of a run's step named `steps`."""
    row = conn.execute(
        "SELECT greatest((SELECT max(completed_on) FROM queue.job WHERE name = ANY(%s)),"
        "                (SELECT max(finished_on) FROM queue.workflow_step WHERE name = ANY(%s)))",
        [list(names), list(steps)],
    ).fetchone()
    return row[0] if row else None


def ranking(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """(top contacts with a score, messages stored) of the bench user."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM crm.relationships r JOIN crm.users u ON u.id = r.user_id"
        "         WHERE u.email = %(u)s AND r.score > 0),"
        "       (SELECT count(*) FROM crm.messages)",
        {"u": USER},
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def stages(conn: psycopg.Connection[Any], names: tuple[str, ...]) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT name, count(*) FILTER (WHERE state = 'completed'),"
        "       count(*) FILTER (WHERE state = 'failed'),"
        "       min(started_on), max(completed_on),"
        "       sum(extract(epoch FROM completed_on - started_on)) FILTER (WHERE state = 'completed')"
        " FROM queue.job WHERE name = ANY(%s) GROUP BY name",
        [list(names)],
    ).fetchall()
    origin = conn.execute("SELECT min(created_on) FROM queue.job").fetchone()
    zero = origin[0] if origin else None
    out: dict[str, Any] = {}
    for name, done, failed, first, last, busy in rows:
        out[name] = {
            "done": done,
            "failed": failed,
            "first_start_s": round((first - zero).total_seconds(), 1) if first and zero else None,
            "last_finish_s": round((last - zero).total_seconds(), 1) if last and zero else None,
            "busy_s": round(float(busy or 0), 1),
        }
    return out


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """(largest single process, whole tree) RSS in MB; zeros once it is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    sizes = []
    for proc in procs:
        try:
            sizes.append(proc.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            continue
    return (max(sizes), sum(sizes)) if sizes else (0.0, 0.0)


def watch(
    url: str, worker: subprocess.Popen[bytes], importer: subprocess.Popen[bytes], args: Any
) -> Timeline:
    seen = Timeline()
    quiet = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while seen.now() < args.max_seconds:
            time.sleep(1.0)
            one, tree = tree_rss_mb(worker.pid)
            seen.peak_process_mb = max(seen.peak_process_mb, one)
            seen.peak_tree_mb = max(seen.peak_tree_mb, tree)
            ranked, stored = ranking(conn)
            if ranked and seen.first_ranking_s is None:
                seen.first_ranking_s, seen.stored_at_first_ranking = seen.now(), stored
            if seen.import_ended_s is None and importer.poll() is not None:
                seen.import_ended_s = seen.now()
            left = pending(conn, PEOPLE)
            if int(seen.now()) % 10 == 0:
                sample = {"s": seen.now(), "stored": stored, "jobs": left, "rss_mb": round(tree)}
                seen.samples.append(sample)
            if not run_analysed(conn) or left:
                quiet = 0
                continue
            quiet += 1
            if quiet >= 3 and seen.ranked_s is None:
                seen.ranked_s = seen.now()
            if seen.ranked_s is None or seen.import_ended_s is None:
                continue
            if pending(conn, ("sync-emails", *SEARCH)):
                continue
            seen.searchable_s = seen.searchable_s or seen.now()
            if not args.summaries or pending(conn, SUMMARIES) == 0:
                seen.summaries_s = seen.now() if args.summaries else None
                break
    return seen


def incremental(url: str, env: dict[str, str], source: Path, args: Any) -> dict[str, Any]:
    """Append `--incremental` new messages, import again with the worker still running: seconds
    until they are stored, extracted and the user re-scored (the last ranking job's finish)."""
    base = scale_bench.corpus_messages()
    with source.open("ab") as out:
        for entry in scale_bench.new_entries(base, args.incremental):
            out.write(entry)
    with psycopg.connect(url, autocommit=True) as conn:
        start = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        command = [sys.executable, "-m", "fluffymail", "import", str(source), "--user", USER]
        subprocess.run(command, env=env, check=True, capture_output=True)
        began = time.perf_counter()
        while time.perf_counter() - began < 300:
            time.sleep(0.5)
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE state IN ('created', 'retry', 'active')),"
                "       max(completed_on),"
                "       (SELECT max(relationships_analyzed_on) FROM crm.users WHERE email = %s)"
                " FROM queue.job WHERE name = ANY(%s) AND created_on >= %s",
                [USER, list(RANKING), start],
            ).fetchone()
            assert row is not None
            left, last, analyzed = row
            if not left and last and analyzed and analyzed >= start:
                return {
                    "new_messages": args.incremental,
                    "rescored_s": round((max(last, analyzed) - start).total_seconds(), 2),
                }
    return {"new_messages": args.incremental, "rescored_s": None}


def mailbox(args: Any) -> Path:
    if args.corpus:
        return corpus.require("enron") / "enron"
    pristine = args.work / f"pipeline-{args.messages}.base.mbox"  # built once, kept
    if not pristine.exists():
        scale_bench.build_mbox(pristine, scale_bench.corpus_messages(), args.messages)
    path = args.work / f"pipeline-{args.messages}.mbox"  # what runs import (and append to)
    shutil.copyfile(pristine, path)
    return path


def prepare_connection(url: str, source: Path, policy: str) -> None:
    """The bench user and the import's connection, with `policy`, before the import (which
    finds and keeps them)."""
    from fluffymail.crm.mail import repo as mail_repo
    from fluffymail.crm.mail.models import ConnectionKind

    async def make() -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
            user, _ = await mail_repo.get_or_create_user(conn, USER, "Pipeline Bench")
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=ConnectionKind.MBOX, source=str(source),
                display_name=source.name,
            )  # fmt: skip
            await conn.execute(
                "UPDATE crm.connections SET contact_policy = %s WHERE id = %s",
                (policy, connection.id),
            )

    asyncio.run(make())


def run(args: Any) -> dict[str, Any]:
    source = mailbox(args)
    database = fresh_database(args.dsn, args.work / "data", prefix="fm_pipe", keep=args.keep)
    with database as (url, env):
        with psycopg.connect(url) as conn:
            began = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        if args.policy:
            prepare_connection(url, source, args.policy)
        command = [sys.executable, "-m", "fluffymail"]
        # their output goes to files: a pipe nobody reads until the end fills up (64 KB of
        # warnings) and then blocks the process writing to it, worker or import
        worker_log, import_log = args.work / "worker.log", args.work / "import.log"
        with worker_log.open("wb") as out:
            worker = subprocess.Popen([*command, "worker"], env=env, stdout=out, stderr=out)
        with import_log.open("wb") as out:
            importer = subprocess.Popen(
                [*command, "import", str(source), "--user", USER], env=env, stdout=out, stderr=out
            )
        try:
            seen = watch(url, worker, importer, args)
            importer.wait()
            later = incremental(url, env, source, args) if args.incremental else None
        finally:
            importer.wait()
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
        with psycopg.connect(url) as conn:
            per_stage = stages(conn, RANKING + SEARCH + SUMMARIES)
            ranked, stored = ranking(conn)
            last = last_finish(conn, PEOPLE, ("sync", "analyze"))
            searchable = last_finish(conn, ("sync-emails", *SEARCH), ())
    said = _SUMMARY.search(" ".join(import_log.read_text(errors="replace").split()))
    return {
        "messages_read": int(said[1].replace(",", "")) if said else None,
        "messages": stored,
        "source": "enron corpus" if args.corpus else f"{args.messages} replicated messages",
        "first_ranking_s": seen.first_ranking_s,
        "stored_at_first_ranking": seen.stored_at_first_ranking,
        "import_ended_s": seen.import_ended_s,
        # the last ranking job's finish (the watcher notices it up to ~4 s later)
        "ranked_s": round((last - began).total_seconds(), 1) if seen.ranked_s and last else None,
        "searchable_s": (
            round((searchable - began).total_seconds(), 1)
            if seen.searchable_s and searchable
            else None
        ),
        "summaries_s": seen.summaries_s,
        "incremental": later,
        "ranked_contacts": ranked,
        "msgs_per_s_to_ranked": (
            round(stored / (last - began).total_seconds()) if seen.ranked_s and last else None
        ),
        "worker_peak_rss_mb": {
            "process": round(seen.peak_process_mb),
            "tree": round(seen.peak_tree_mb),
        },
        "stages": per_stage,
        "samples": seen.samples,
        "load_avg_end": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--corpus", action="store_true", help="the Enron corpus as it is")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fm-pipeline"))
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--max-seconds", type=float, default=3600)
    parser.add_argument("--summaries", action="store_true", help="also wait for summaries")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--policy", choices=("sent", "sent_and_received", "none"), help="the connection's policy"
    )
    parser.add_argument(
        "--incremental", type=int, default=0, help="then N new messages: time to re-scored"
    )
    args = parser.parse_args()
    sys.stdout.write(json.dumps(run(args), indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
