"""Times `analyze-relationships` for one user with 100,000 stored messages (synthetic).

Run: ``.venv/bin/python bench/relationships_bench.py [--dsn postgresql://postgres@127.0.0.1/postgres]
[--messages 100000] [--contacts 3000] [--repeat 3]``. Creates a scratch database, generates the
mail straight into the tables (set-based SQL: messages, threads, contacts, addresses, links,
as extract-contacts leaves them), then times a full recompute and an incremental run after 100
new messages, each the median of `--repeat` runs. Prints one figure per line, exits 1 on a
missed bar (full <= 30 s, incremental <= 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.crm.relationships import analysis
from fluffymail.db import migrate

USER = "owner@bench.example"
NOW = datetime(2024, 7, 1, tzinfo=UTC)
FULL_BAR, INCREMENTAL_BAR = 30.0, 2.0

SETUP = """
INSERT INTO crm.users (email) VALUES (%(user)s);
INSERT INTO crm.contacts (user_id, primary_address, name, created)
SELECT 1, 'person' || g || '@corp' || (g %% 97) || '.example', 'Person ' || g, true
FROM generate_series(1, %(contacts)s) g;
INSERT INTO crm.contact_addresses (user_id, address, contact_id)
SELECT 1, primary_address, id FROM crm.contacts
"""
MAIL = """
-- contact of message g: skewed (a few close contacts, a long tail), threads of ~4 messages
CREATE TEMP TABLE plan AS
SELECT g AS n,
       1 + floor(%(contacts)s * power(random(), 3))::int AS contact,
       random() < 0.45 AS outgoing,
       random() < 0.2 AS with_cc,
       1 + floor(random() * %(contacts)s)::int AS cc_contact,
       %(start)s::timestamptz + (g::bigint * %(span_seconds)s / %(messages)s) * interval '1 second' AS at
FROM generate_series(%(first)s, %(first)s + %(messages)s - 1) g;
INSERT INTO crm.threads (user_id, key, subject)
SELECT DISTINCT 1, 't' || contact || '-' || (n / 40), 'thread' FROM plan
ON CONFLICT DO NOTHING;
INSERT INTO crm.messages (user_id, dedup_key, thread_id, from_address, date, subject)
SELECT 1, 'fp:' || p.n, t.id,
       CASE WHEN p.outgoing THEN %(user)s ELSE 'person' || p.contact || '@corp'
            || (p.contact %% 97) || '.example' END,
       p.at, 'thread'
FROM plan p JOIN crm.threads t ON t.user_id = 1 AND t.key = 't' || p.contact || '-' || (p.n / 40)
ORDER BY p.n;
DELETE FROM crm.message_pending WHERE user_id = 1;  -- extracted: their links are below
INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on, visible)
SELECT m.id, 'person' || p.contact || '@corp' || (p.contact %% 97) || '.example',
       CASE WHEN p.outgoing THEN 'sent_to' ELSE 'received_from' END, 1, m.date, true
FROM plan p JOIN crm.messages m ON m.dedup_key = 'fp:' || p.n
UNION ALL
SELECT m.id, 'person' || p.cc_contact || '@corp' || (p.cc_contact %% 97) || '.example', 'cc',
       1, m.date, true
FROM plan p JOIN crm.messages m ON m.dedup_key = 'fp:' || p.n
WHERE p.with_cc AND p.cc_contact <> p.contact;
DROP TABLE plan;
ANALYZE crm.messages; ANALYZE crm.contact_links; ANALYZE crm.threads;
ANALYZE crm.contacts; ANALYZE crm.contact_addresses;
"""


async def generate(
    conn: psycopg.AsyncConnection, *, first: int, messages: int, contacts: int, users: bool
) -> None:
    """Add `messages` messages numbered from `first` (and the user and contacts when `users`)."""
    params = {
        "user": USER,
        "contacts": contacts,
        "messages": messages,
        "first": first,
        "start": datetime(2021, 7, 1, tzinfo=UTC) if users else NOW,
        "span_seconds": 3 * 365 * 86_400 if users else 3_600,
    }
    script = (SETUP + ";" + MAIL) if users else MAIL
    for statement in script.split(";"):
        if statement.strip():
            await conn.execute(statement, params)


async def timed_full(url: str) -> float:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        result = await analysis.analyze_user(conn, 1, now=NOW, full=True)
        seconds = time.perf_counter() - started
    print(f"#   full: {result.interactions} interactions, {result.contacts} contacts", flush=True)
    return seconds


async def timed_incremental(url: str, first: int, contacts: int) -> float:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await generate(conn, first=first, messages=100, contacts=contacts, users=False)
        started = time.perf_counter()
        result = await analysis.analyze_user(conn, 1, now=NOW)
        seconds = time.perf_counter() - started
    print(
        f"#   incremental: {result.interactions} interactions, {result.contacts} contacts,"
        f" {result.rebuilt} rebuilt",
        flush=True,
    )
    return seconds


async def bench(url: str, messages: int, contacts: int, repeat: int) -> dict[str, float]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate.upgrade(conn)
        started = time.perf_counter()
        await generate(conn, first=1, messages=messages, contacts=contacts, users=True)
        count = await (await conn.execute("SELECT count(*) FROM crm.contact_links")).fetchone()
    print(f"# generated {messages} messages, {count[0] if count else 0} links in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    full = [await timed_full(url) for _ in range(repeat)]
    incremental = [
        await timed_incremental(url, messages + 1 + i * 100, contacts) for i in range(repeat)
    ]
    return {"full": statistics.median(full), "incremental": statistics.median(incremental)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = f"fm_relbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(args.dsn, dbname=name)
        figures = asyncio.run(bench(url, args.messages, args.contacts, args.repeat))
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ok_full = figures["full"] <= FULL_BAR
    ok_inc = figures["incremental"] <= INCREMENTAL_BAR
    print(f"messages {args.messages}")
    print(f"full_recompute_seconds {figures['full']:.2f}  bar<={FULL_BAR:.0f}  "
          f"{'ok' if ok_full else 'FAIL'}")  # fmt: skip
    print(f"incremental_100_seconds {figures['incremental']:.2f}  bar<={INCREMENTAL_BAR:.0f}  "
          f"{'ok' if ok_inc else 'FAIL'}")  # fmt: skip
    sys.exit(0 if ok_full and ok_inc else 1)


if __name__ == "__main__":
    main()
