"""Mail search at scale (issue 14): one user with 1M generated messages (the CRM scale bench's
companies, contacts and links, with subjects, bodies and recipients of Zipf-distributed words so
that common words, rare words and phrases exist), then p50 / p95 latency through the app (httpx
ASGI transport) of GET /api/messages over a query set: common words, rare words, phrases, with
filters, both orders, and "people who wrote about X". Also what the search vector and its index
add per message.

Usage: .venv/bin/python bench/message_search_bench.py [--dsn postgresql://postgres@127.0.0.1/test]
       [--messages 1000000] [--contacts 10000] [--requests 50] [--keep] [--reuse DBNAME]
       .venv/bin/python bench/message_search_bench.py --corpus [PATH]
Prints JSON; the issue's bar: every scenario's p95 < 200 ms. `--corpus` instead imports real mail
(default: the corpus's Enron mboxes) with `fluffymail import` and prints only the bytes per
message, since generated words make bigger vectors than real mail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
from psycopg.conninfo import make_conninfo

import corpus
from contacts_list_bench import COMPANIES, GENERATE
from fluffymail.config import Settings
from fluffymail.db import migrate
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts
from import_command import fresh_database, run_import

EMAIL, PASSWORD = "bench@example.com", "benchmark password"
# The 200 words most mail is made of; the tail of the vocabulary is "term<k>" for k up to 50,000.
COMMON = (
    "the to and of a in for is on that you with this be it have are from we at as will your by or"
    " not can if all be our please an me thanks would do has but was meeting about they so my"
    " there what get know just been more one up any time which need out new call when also project"
    " update report week let us should could see like team send attached review contract deal"
    " price market gas power energy trading schedule today tomorrow monday friday morning"
    " afternoon conference office group issue question agreement draft final sign order number"
    " account credit risk plan budget deadline month year information list request change help"
    " data file document letter email phone number address company business client customer"
    " service support product sale offer cost payment invoice bank loan fund capital investment"
    " board member director manager president vice analyst legal counsel lawyer regulatory"
    " approval filing comment notice policy rule law state federal pipeline transmission capacity"
    " supply demand volume storage contract term option swap hedge position limit exposure value"
    " model forecast analysis summary agenda minutes presentation slides lunch dinner travel"
    " flight hotel houston london portland california texas york"
).split()
VOCABULARY = 50_000
# Body of 40-160 words, subject of 3-8, a word drawn log-uniformly over the vocabulary (Zipf's
# law, s = 1): "the" is in most messages, term40000 in a handful.
_WORDS = """(SELECT string_agg(CASE WHEN k <= %(n_common)s THEN (%(common)s::text[])[k]
                                ELSE 'term' || k END, ' ')
            FROM (SELECT floor(exp(random() * ln(%(vocabulary)s)))::int AS k
                  FROM generate_series(1, {count}) WHERE i > 0) w)"""
MESSAGES = f"""
INSERT INTO crm.messages (user_id, dedup_key, from_address, from_name, date, subject, snippet,
                          body_text, recipients, has_attachment, content_type)
SELECT %(u)s, 'fp:' || i,
       'p' || (1 + i %% %(contacts)s) || '@co' || ((1 + i %% %(contacts)s) %% %(companies)s)
           || '.example',
       'Person ' || (1 + i %% %(contacts)s), now() - (i %% 1000) * interval '1 day' - i * interval '1 second',
       s, left(b, 200), b,
       'Person ' || (1 + (i * 7) %% %(contacts)s) || ' p' || (1 + (i * 7) %% %(contacts)s) || '@co'
           || ((1 + (i * 7) %% %(contacts)s) %% %(companies)s) || '.example',
       i %% 7 = 0, CASE WHEN i %% 7 = 0 THEN 'multipart/mixed' ELSE 'text/plain' END
FROM (SELECT i, {_WORDS.format(count="3 + i %% 6")} AS s,
             {_WORDS.format(count="40 + i %% 121")} AS b
      FROM generate_series(%(start)s::int, %(stop)s::int) i) g
"""
LINKS = """INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on, visible)
       SELECT id, from_address, 'received_from', user_id, date, true
       FROM crm.messages WHERE user_id = %(u)s"""
BATCH = 50_000
# The indexes the load would otherwise maintain row by row: built once after it, as a bulk
# import into an empty database would (the definitions are 0031's and 0025's). The search rows
# are written by 0031's insert trigger, batch by batch, in insertion order (dates scattered).
INDEXES = {
    "message_search_vector_idx": "CREATE INDEX message_search_vector_idx"
    " ON crm.message_search USING gin (vector)",
    "message_search_pairs_idx": "CREATE INDEX message_search_pairs_idx"
    " ON crm.message_search USING gin (pairs)",
    "message_search_list_idx": "CREATE INDEX message_search_list_idx ON crm.message_search"
    " (user_id, date DESC NULLS LAST, message_id DESC)",
    "messages_user_list_idx": "CREATE INDEX messages_user_list_idx ON crm.messages"
    " (user_id, date DESC NULLS LAST, id DESC)",
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url, migrate_on_start=False, log_level="WARNING", pool_min_size=2,
        pool_max_size=4,
    )  # fmt: skip


async def build(url: str, args: argparse.Namespace) -> dict[str, float]:
    """Migrate, create the user, generate contacts and mail; returns seconds per step."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate.upgrade(conn)
    app = create_app(_settings(url))
    async with app.router.lifespan_context(app):
        account, _ = await accounts.create_user(app.state.fm.pool, EMAIL, PASSWORD)
    timings: dict[str, float] = {}
    params: dict[str, Any] = {
        "u": account.id,
        "companies": COMPANIES,
        "contacts": args.contacts,
        "common": COMMON,
        "n_common": len(COMMON),
        "vocabulary": VOCABULARY,
    }
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for statement in GENERATE[:4]:  # companies, contacts, addresses, relationships
            await _timed(conn, statement, params, timings, " ".join(statement.split()[:3]))
        for name in INDEXES:
            await conn.execute(f"DROP INDEX crm.{name}")  # type: ignore[arg-type]
        started = time.perf_counter()
        for start in range(1, args.messages + 1, BATCH):
            stop = min(start + BATCH - 1, args.messages)
            await conn.execute(MESSAGES, {**params, "start": start, "stop": stop})  # type: ignore[arg-type]
            print(f"messages: {stop:,} after {time.perf_counter() - started:.0f} s", flush=True)
        timings["messages"] = round(time.perf_counter() - started, 1)
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for name, statement in INDEXES.items():
            await _timed(conn, statement, {}, timings, name)
        await _timed(conn, LINKS, params, timings, "contact_links")
        await _timed(conn, "VACUUM ANALYZE", {}, timings, "vacuum analyze")
    return timings


async def _timed(
    conn: psycopg.AsyncConnection[Any],
    statement: str,
    params: dict[str, Any],
    timings: dict[str, float],
    name: str,
) -> None:
    started = time.perf_counter()
    await conn.execute(statement, params)  # type: ignore[arg-type]
    timings[name] = round(time.perf_counter() - started, 1)
    print(f"{name}: {timings[name]} s", flush=True)


async def sizes(url: str) -> dict[str, Any]:
    """Bytes per message: the search row's vector and word pairs as stored, their GIN indexes,
    the search table with all its indexes, and the messages table with its indexes."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (
            await conn.execute(
                "SELECT (SELECT count(*) FROM crm.messages),"
                " (SELECT avg(pg_column_size(vector)) FROM crm.message_search),"
                " (SELECT avg(pg_column_size(pairs)) FROM crm.message_search),"
                " pg_relation_size('crm.message_search_pairs_idx'),"
                " (SELECT avg(pg_column_size(body_text)) FROM crm.messages),"
                " pg_relation_size('crm.message_search_vector_idx'),"
                " pg_relation_size('crm.message_search_list_idx'),"
                " pg_total_relation_size('crm.message_search'),"
                " pg_total_relation_size('crm.messages')"
            )
        ).fetchone()
    assert row is not None
    count = max(row[0], 1)
    return {
        "messages": row[0],
        "vector_bytes_per_message": round(float(row[1] or 0)),
        "pairs_bytes_per_message": round(float(row[2] or 0)),
        "pairs_gin_bytes_per_message": round(row[3] / count),
        "body_bytes_per_message": round(float(row[4] or 0)),
        "gin_bytes_per_message": round(row[5] / count),
        "search_list_index_bytes_per_message": round(row[6] / count),
        "search_table_total_bytes_per_message": round(row[7] / count),
        "messages_table_total_bytes_per_message": round(row[8] / count),
    }


def corpus_sizes(dsn: str, path: str) -> dict[str, Any]:
    """Import real mail into a fresh database; what the search adds per message."""
    source = Path(path) if path else corpus.root() / "enron" / "mbox"
    with tempfile.TemporaryDirectory() as data, fresh_database(dsn, Path(data)) as (url, env):
        imported = run_import(source, env, "corpus@example.com")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE crm.messages")
        return {"source": str(source), **imported, **asyncio.run(sizes(url))}


async def scenarios(url: str) -> dict[str, str]:
    """The query set: paths on GET /api/messages and /api/messages/people."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (
            await conn.execute(
                "SELECT (SELECT id FROM crm.contacts WHERE primary_address LIKE 'p42@%%'),"
                " (SELECT company_id FROM crm.contacts WHERE primary_address LIKE 'p42@%%')"
            )
        ).fetchone()
    assert row is not None
    contact, company = row
    since = "2026-01-01T00:00:00Z"
    cases = {
        "control: list, no words": {},
        "common word 'the'": {"q": "the"},
        "common word 'meeting'": {"q": "meeting"},
        "two common words 'project update'": {"q": "project update"},
        "phrase '\"gas price\"'": {"q": '"gas price"'},
        "mid word 'term900'": {"q": "term900"},
        "rare word 'term41234'": {"q": "term41234"},
        "rare OR common 'term41234 or contract'": {"q": "term41234 or contract"},
        "no match 'zzzqqq'": {"q": "zzzqqq"},
        "common word, sorted by date": {"q": "meeting", "sort": "date"},
        "common word + attachment": {"q": "report", "attachment": "true"},
        "common word + since": {"q": "contract", "since": since},
        "common word + from contact": {"q": "the", "from_contact": contact},
        "rare word + company": {"q": "term900", "company": company},
        "list from contact": {"from_contact": contact},
        "list with attachment": {"attachment": "true"},
        # address words: a company's domain (20 addresses), a local part, every address (the
        # 100 with the most mail: ADDRESSES_CAP)
        "domain 'co42.example'": {"q": "co42.example"},
        "domain + common word": {"q": "co42.example meeting"},
        "domain, sorted by date": {"q": "@co42.example", "sort": "date"},
        "local part 'p42@'": {"q": "p42@"},
        "100 addresses '.example'": {"q": ".example"},
    }
    paths = {name: "/api/messages?" + urlencode(query) for name, query in cases.items()}
    paths["people who wrote about 'contract'"] = "/api/messages/people?q=contract"
    paths["people who wrote about 'term900'"] = "/api/messages/people?q=term900"
    paths["people who wrote about 'co42.example'"] = "/api/messages/people?q=co42.example"
    return paths


async def measure(url: str, requests: int) -> dict[str, dict[str, Any]]:
    app = create_app(_settings(url))
    results = {}
    async with app.router.lifespan_context(app):
        pool = app.state.fm.pool
        account = await accounts.authenticate(pool, EMAIL, PASSWORD)
        assert account is not None
        token = await accounts.create_api_token(pool, account.id, "bench")
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as http:
            for name, path in (await scenarios(url)).items():
                results[name] = await _scenario(http, path, requests)
                print(name, results[name], flush=True)
    return results


async def _scenario(http: httpx.AsyncClient, path: str, requests: int) -> dict[str, Any]:
    for _ in range(3):  # warm the pool, caches and plans
        assert (await http.get(path)).status_code == 200, path
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    body = response.json()
    found = len(body) if isinstance(body, list) else body["total"]
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "found": found,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", help="measure an existing database built with --keep")
    parser.add_argument("--corpus", nargs="?", const="", help="bytes per message of real mail")
    args = parser.parse_args()
    if args.corpus is not None:
        print(json.dumps(corpus_sizes(args.dsn, args.corpus), indent=2))
        return
    name = args.reuse or f"fm_bench_search_{uuid.uuid4().hex[:8]}"
    url = make_conninfo(args.dsn, dbname=name)
    generated: dict[str, float] = {}
    try:
        if not args.reuse:
            with psycopg.connect(args.dsn, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
            generated = asyncio.run(build(url, args))
        bytes_ = asyncio.run(sizes(url))
        results = asyncio.run(measure(url, args.requests))
    finally:
        if not args.keep and not args.reuse:
            with psycopg.connect(args.dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    worst = max(s["p95_ms"] for n, s in results.items() if not n.startswith("control"))
    print(
        json.dumps(
            {
                "requests": args.requests,
                "generate_seconds": generated,
                "sizes": bytes_,
                "scenarios": results,
                "worst_p95_ms": worst,
                "bar_p95_ms": 200,
                "ok": worst < 200,
                "database": name if args.keep or args.reuse else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
