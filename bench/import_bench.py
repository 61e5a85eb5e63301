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
import re
import subprocess
import sys
import tempfile
import time
import uuid
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.integrations.mail.files import iter_source

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT.parent / "shared" / "corpus" / "enron"
_SUMMARY = re.compile(r"(\d+) messages read, (\d+) new, \d+ duplicates, in ([\d.]+) s")


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
    name = f"fm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            env = {**os.environ, "DATABASE_URL": make_conninfo(dsn, dbname=name),
                   "FLUFFYMAIL_DATA_DIR": data_dir, "FLUFFYMAIL_LOG_LEVEL": "WARNING"}  # fmt: skip
            command = [
                sys.executable,
                "-m",
                "fluffymail",
                "import",
                str(path),
                "--user",
                "bench@example.com",
            ]
            subprocess.run([sys.executable, "-m", "fluffymail", "db", "upgrade"], env=env,
                           check=True, capture_output=True)  # fmt: skip
            started = time.perf_counter()
            done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            wall = time.perf_counter() - started
        match = _SUMMARY.search(" ".join(done.stdout.split()))
        if match is None:
            raise RuntimeError(f"unexpected import output: {done.stdout!r}")
        seen, stored, seconds = int(match[1]), int(match[2]), float(match[3])
        with psycopg.connect(make_conninfo(dsn, dbname=name)) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM queue.job WHERE name = 'extract-contacts'),"
                " pg_database_size(current_database())"
            ).fetchone()
        assert row is not None
        return {
            "messages_read": seen,
            "messages_stored": stored,
            "extract_jobs": row[0],
            "import_seconds": seconds,
            "msgs_per_s": round(seen / seconds),
            "command_wall_seconds": round(wall, 3),
            "command_msgs_per_s": round(seen / wall),
            "database_bytes": row[1],
        }
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
