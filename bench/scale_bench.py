"""Scale benchmark: a 1,000,000-message mailbox through `fluffymail import`, then 10 new messages.

Usage: .venv/bin/python bench/scale_bench.py [--messages 1000000] [--work /tmp/fm-scale]
                                             [--dsn postgresql://postgres@127.0.0.1/test]
Builds an mbox by replicating the Enron corpus (each copy gets a rewritten Message-ID and a
"[copy N]" subject prefix, so every message is distinct), imports it into a fresh database with
the real command, and records: time and rate, the peak RSS of the import process tree, database
bytes per stored message (whole database, and the mail tables alone), then appends 10 new
messages and times the incremental import that finds them (the sync's own figure and the whole
command's). Issue #4's bars: RSS < 500 MB, incremental < 2 s. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.integrations.mail.files import iter_source

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "enron"
_SUMMARY = re.compile(r"(\d+) messages read, (\d+) new, \d+ duplicates, in ([\d.]+) s")
_FROM_LINE = re.compile(rb"(?m)^(>*From )")
_MESSAGE_ID = re.compile(rb"(?im)^message-id:[^\n]*\n")
_SUBJECT = re.compile(rb"(?im)^subject:")


def corpus_messages() -> list[bytes]:
    return [mail.raw for mail in iter_source(CORPUS)]


def variant(raw: bytes, copy: int | str, index: int) -> bytes:
    """The message as copy `copy`: new Message-ID, subject prefix (so its fingerprint differs)."""
    head, sep, body = raw.partition(b"\n\n")
    head = _MESSAGE_ID.sub(b"", head)
    if _SUBJECT.search(head):
        head = _SUBJECT.sub(f"Subject: [copy {copy}]".encode(), head, count=1)
    else:
        head += f"\nSubject: [copy {copy}]".encode()
    head += f"\nMessage-ID: <scale.{copy}.{index}@bench.fluffymail>".encode()
    return head + (sep or b"\n\n") + body


def mbox_entry(raw: bytes) -> bytes:
    body = _FROM_LINE.sub(rb">\1", raw.replace(b"\r\n", b"\n")).rstrip(b"\n")
    return b"From bench@fluffymail Thu Jan  1 00:00:00 2026\n" + body + b"\n\n"


def mbox_entries(base: list[bytes], count: int) -> Iterator[bytes]:
    for n in range(count):
        copy, index = divmod(n, len(base))
        yield mbox_entry(variant(base[index], copy, index))


def new_entries(base: list[bytes], count: int) -> Iterator[bytes]:
    """Messages no copy has: a "[copy new-i]" subject makes each one distinct."""
    step = len(base) // count
    for i in range(count):
        yield mbox_entry(variant(base[i * step], f"new-{i}", i * step))


def build_mbox(path: Path, base: list[bytes], count: int) -> float:
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb", buffering=1 << 20) as out:
        for entry in mbox_entries(base, count):
            out.write(entry)
    return time.perf_counter() - started


def run_import(path: Path, env: dict[str, str]) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "fluffymail",
        "import",
        str(path),
        "--user",
        "scale@bench.fluffymail",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    match = _SUMMARY.search(" ".join(done.stdout.split()))
    if match is None:
        raise RuntimeError(f"unexpected import output: {done.stdout!r}")
    seen, stored, seconds = int(match[1]), int(match[2]), float(match[3])
    return {
        "messages_read": seen,
        "messages_stored": stored,
        "sync_seconds": seconds,
        "command_seconds": round(wall, 3),
        "msgs_per_s": round(seen / seconds) if seconds else None,
        # ru_maxrss of waited children is the largest single process of the tree, in KiB; it
        # only grows, so a later, smaller run reports the earlier peak (hence `before`).
        "peak_rss_mb": round(peak_kb / 1024, 1) if peak_kb > before else None,
    }


def sizes(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM crm.messages), pg_database_size(current_database()),"
            " (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            "   JOIN pg_namespace n ON n.oid = c.relnamespace"
            "  WHERE n.nspname = 'crm' AND c.relkind = 'r')"
        ).fetchone()
    assert row is not None
    messages, database, crm = row
    return {
        "messages": messages,
        "database_bytes": database,
        "database_bytes_per_message": round(database / max(messages, 1)),
        "crm_tables_bytes_per_message": round(int(crm) / max(messages, 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/fm-scale"))
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and the mbox")
    args = parser.parse_args()
    base = corpus_messages()
    mbox = args.work / f"scale-{args.messages}.mbox"
    build_seconds = build_mbox(mbox, base, args.messages)
    name = f"fm_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(args.dsn, dbname=name)
    env = {**os.environ, "DATABASE_URL": url, "FLUFFYMAIL_DATA_DIR": str(args.work / "data"),
           "FLUFFYMAIL_LOG_LEVEL": "WARNING"}  # fmt: skip
    try:
        subprocess.run([sys.executable, "-m", "fluffymail", "db", "upgrade"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        full = run_import(mbox, env)
        stored = sizes(url)
        with mbox.open("ab") as out:
            for entry in new_entries(base, 10):
                out.write(entry)
        incremental = run_import(mbox, env)
        result = {
            "messages": args.messages,
            "mbox_bytes": mbox.stat().st_size,
            "build_seconds": round(build_seconds, 1),
            "full_import": full,
            "storage": stored,
            "incremental_10_new": incremental,
        }
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    finally:
        if not args.keep:
            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            mbox.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
