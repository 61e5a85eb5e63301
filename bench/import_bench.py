"""Import benchmark: `fluffymail import` of a corpus into a fresh database, vs raw compat32 parsing.

Usage: .venv/bin/python bench/import_bench.py [PATH] [--dsn postgresql://postgres@127.0.0.1/test]
Prints JSON: end-to-end import rate (parse + store + enqueue extract-contacts, measured by
the import itself and by the whole command's wall clock), the stdlib compat32
`BytesParser().parsebytes` rate over the same messages (read into memory first, best of 3),
and their ratio. The issue's bars: >= 2,000 msgs/s and >= 25 % of compat32.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import psycopg

import corpus
import import_command
from fluffymail.integrations.mail.files import iter_source
from import_command import fresh_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = corpus.enron()


def compat32_rate(path: Path, rounds: int = 3) -> dict[str, Any]:
    raws = [mail.raw for mail in iter_source(path)]
    parser = BytesParser(policy=compat32)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for raw in raws:
            parser.parsebytes(raw)
        best = min(best, time.perf_counter() - started)
    return {"messages": len(raws), "seconds": round(best, 3), "msgs_per_s": round(len(raws) / best)}


def run_import(path: Path, dsn: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data, fresh_database(dsn, Path(data)) as (url, env):
        done = import_command.run_import(path, env, "bench@example.com")
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM queue.job WHERE name = 'extract-contacts'),"
                " pg_database_size(current_database())"
            ).fetchone()
    assert row is not None
    return {
        "messages_read": done["messages_read"],
        "messages_stored": done["messages_stored"],
        "extract_jobs": row[0],
        "import_seconds": done["sync_seconds"],
        "msgs_per_s": done["msgs_per_s"],
        "command_wall_seconds": done["command_seconds"],
        "command_msgs_per_s": done["command_msgs_per_s"],
        "database_bytes": row[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    args = parser.parse_args()
    imported = run_import(args.path.resolve(), args.dsn)
    raw = compat32_rate(args.path)
    result = {
        "corpus": str(args.path),
        "cpus": os.cpu_count(),
        "import": imported,
        "compat32": raw,
        "ratio_import_to_compat32": round(imported["msgs_per_s"] / raw["msgs_per_s"], 3),
        "ratio_command_to_compat32": round(imported["command_msgs_per_s"] / raw["msgs_per_s"], 3),
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
