"""Shared by the import benchmarks: a fresh migrated database, and one `fluffymail import` run.

Not a benchmark itself: `import_bench.py` and `scale_bench.py` import it (scripts run from
`bench/`, so it is on their path).
"""

from __future__ import annotations

import contextlib
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

_SUMMARY = re.compile(r"([\d,]+) messages? read, ([\d,]+) new, [\d,]+ duplicates?, in ([\d.]+) s")


@contextlib.contextmanager
def fresh_database(
    dsn: str,
    data_dir: Path,
    *,
    prefix: str = "fm_bench",
    keep: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[str, dict[str, str]]]:
    """(its URL, the environment for `fluffymail` commands) of a new database migrated by the
    code that `extra_env` (e.g. another revision's PYTHONPATH) runs; dropped afterwards unless
    `keep`."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(dsn, dbname=name)
    env = {**os.environ, "DATABASE_URL": url, "FLUFFYMAIL_DATA_DIR": str(data_dir),
           "FLUFFYMAIL_LOG_LEVEL": "WARNING", **(extra_env or {})}  # fmt: skip
    try:
        subprocess.run([sys.executable, "-m", "fluffymail", "db", "upgrade"], env=env,
                       check=True, capture_output=True)  # fmt: skip
        yield url, env
    finally:
        if not keep:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_import(path: Path, env: dict[str, str], user: str) -> dict[str, Any]:
    """Run `fluffymail import PATH --user USER`; its own figures, wall clock and peak RSS."""
    command = [sys.executable, "-m", "fluffymail", "import", str(path), "--user", user]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    match = _SUMMARY.search(" ".join(done.stdout.split()))
    if match is None:
        raise RuntimeError(f"unexpected import output: {done.stdout!r}")
    seen, stored = int(match[1].replace(",", "")), int(match[2].replace(",", ""))
    seconds = float(match[3])
    return {
        "messages_read": seen,
        "messages_stored": stored,
        "sync_seconds": seconds,
        "command_seconds": round(wall, 3),
        "msgs_per_s": round(seen / seconds) if seconds else None,
        "command_msgs_per_s": round(seen / wall),
        # ru_maxrss of waited children is the largest single process of the tree, in KiB; it
        # only grows, so a later, smaller run reports the earlier peak (hence `before`).
        "peak_rss_mb": round(peak_kb / 1024, 1) if peak_kb > before else None,
    }
