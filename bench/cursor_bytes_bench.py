"""Bytes the sync cursor takes after a multi-folder import (issue 19).

    cd bench && ../.venv/bin/python cursor_bytes_bench.py /work/shared/corpus/enron/mbox

Imports PATH with `fluffymail import` into a fresh database, then reports the size of every
relation that holds cursor state (tables, TOAST and indexes: `pg_total_relation_size`) with
their live rows and the update counts of `pg_stat_user_tables`. Nothing vacuums in between
(autovacuum lags a bulk load), so dead row versions count, as they did in the issue's run.
Run it with `PYTHONPATH=<an older checkout>/src` to measure that version's layout.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import psycopg

from import_command import fresh_database, run_import

RELATIONS = ("crm.connections", "crm.folders", "crm.sync_cursors")


def sizes(url: str) -> dict[str, dict[str, int]]:
    """Per relation: total bytes, live rows, updates and HOT updates (absent ones skipped)."""
    found: dict[str, dict[str, int]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name in RELATIONS:
            if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone() == (None,):
                continue
            schema, table = name.split(".")
            row = conn.execute(
                "SELECT pg_total_relation_size(%s::regclass), pg_relation_size(%s::regclass),"
                " n_live_tup, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                " WHERE schemaname = %s AND relname = %s",
                (name, name, schema, table),
            ).fetchone()
            assert row is not None
            keys = ("total_bytes", "heap_bytes", "live_rows", "updates", "hot_updates")
            found[name] = dict(zip(keys, (int(v) for v in row), strict=True))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--label", default="this branch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, fresh_database(args.dsn, Path(data)) as (url, env):
        imported = run_import(args.path, env, "cursor-bench@example.com")
        measured = sizes(url)
    result = {"label": args.label, "import": imported, "relations": measured,
              "cursor_bytes": sum(r["total_bytes"] for r in measured.values())}  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
