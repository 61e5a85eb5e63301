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
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

import corpus
import import_command
from fluffymail.integrations.mail.files import iter_source
from import_command import fresh_database

ROOT = Path(__file__).resolve().parents[1]
USER = "scale@bench.fluffymail"
_FROM_LINE = re.compile(rb"(?m)^(>*From )")
_MESSAGE_ID = re.compile(rb"(?im)^message-id:[^\n]*\n")
_SUBJECT = re.compile(rb"(?im)^subject:")


def corpus_messages() -> list[bytes]:
    return [mail.raw for mail in iter_source(corpus.require("enron") / "enron")]


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
    database = fresh_database(args.dsn, args.work / "data", prefix="fm_scale", keep=args.keep)
    try:
        with database as (url, env):
            full = import_command.run_import(mbox, env, USER)
            stored = sizes(url)
            with mbox.open("ab") as out:
                for entry in new_entries(base, 10):
                    out.write(entry)
            incremental = import_command.run_import(mbox, env, USER)
            mbox_bytes = mbox.stat().st_size
    finally:
        if not args.keep:
            mbox.unlink(missing_ok=True)
    result = {
        "messages": args.messages,
        "mbox_bytes": mbox_bytes,
        "build_seconds": round(build_seconds, 1),
        "full_import": full,
        "storage": stored,
        "incremental_10_new": incremental,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
