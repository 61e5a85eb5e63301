"""CRM at scale (issue 13): one user with 10,000 contacts, 1M messages, 50,000 notes, 20 tags
and a few thousand follow-ups, generated straight into a scratch database (the contacts-list
bench's generate_series statements plus tags, notes and cadences), then p95 latency through the
app (httpx ASGI transport) of the contacts list filtered by a tag and of the Follow-ups page.

Usage: .venv/bin/python bench/crm_scale_bench.py [--dsn postgresql://postgres@127.0.0.1/test]
       [--contacts 10000] [--messages 1000000] [--notes 50000] [--requests 100] [--keep]
Prints JSON: p50 / p95 milliseconds per scenario (the issue's bar: p95 < 100 ms), how long
generating and the first follow-ups recompute took.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
import uuid
from typing import Any

import httpx
import psycopg
from psycopg.conninfo import make_conninfo

from contacts_list_bench import COMPANIES, GENERATE
from fluffymail.config import Settings
from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.followups import service as followups_service
from fluffymail.db import migrate
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts

TAGS = 20
EMAIL, PASSWORD = "bench@example.com", "benchmark password"
# After the contacts-list statements: the user's workspace's tags (contact i carries tag i % 20,
# and every 5th contact (half of them scored) also the first tag, "Investor": about 2,000), 50k notes spread
# over the contacts, a keep-in-touch cadence on every 5th contact, and a question in every 50th
# message (so recomputing finds open loops in real text).
MORE = [
    """INSERT INTO crm.tags (workspace_id, name, colour, created_by)
       SELECT %(w)s, CASE WHEN i = 0 THEN 'Investor' ELSE 'Tag ' || i END, 'blue', %(u)s
       FROM generate_series(0, %(tags)s - 1) i""",
    """INSERT INTO crm.contact_tags (contact_id, tag_id, tagged_by)
       SELECT c.id, t.id, %(u)s
       FROM crm.contacts c
       JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM crm.tags
             WHERE workspace_id = %(w)s) t ON t.n = c.id %% %(tags)s OR (t.n = 0 AND c.id %% 5 = 0)
       WHERE c.user_id = %(u)s
       ON CONFLICT DO NOTHING""",
    """INSERT INTO crm.notes (workspace_id, author_id, contact_id, body, created_on, updated_on)
       SELECT %(w)s, %(u)s, ids[1 + i %% array_length(ids, 1)],
              'Note ' || i || ': met at the conference, **follow up** about the pilot.',
              now() - (i %% 500) * interval '1 day', now() - (i %% 500) * interval '1 day'
       FROM (SELECT array_agg(id ORDER BY id) AS ids FROM crm.contacts WHERE user_id = %(u)s) c,
            generate_series(1, %(notes)s) i""",
    """INSERT INTO crm.contact_cadences (contact_id, user_id, days, set_by)
       SELECT id, %(u)s, 7 + (id %% 4) * 14, %(u)s FROM crm.contacts
       WHERE user_id = %(u)s AND id %% 5 = 0 AND merged_into_id IS NULL""",
    """UPDATE crm.messages SET body_text = 'Thanks for the update. Could you send me the '
           || 'signed order form before Friday?'
       WHERE user_id = %(u)s AND id %% 50 = 0""",
]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        migrate_on_start=False,
        log_level="WARNING",
        pool_min_size=2,
        pool_max_size=4,
    )


async def build(url: str, args: argparse.Namespace) -> tuple[str, int, dict[str, float]]:
    """Migrate, create the user, generate everything, recompute follow-ups once; returns the
    API token, the tag filtered on, and the seconds each step took."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate.upgrade(conn)
    app = create_app(_settings(url))
    async with app.router.lifespan_context(app):
        pool = app.state.fm.pool
        account, _ = await accounts.create_user(pool, EMAIL, PASSWORD)
        token = await accounts.create_api_token(pool, account.id, "bench")
    timings: dict[str, float] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        workspace = await followups_repo.workspace_of(conn, account.id)
        params = {
            "u": account.id,
            "w": workspace,
            "companies": COMPANIES,
            "contacts": args.contacts,
            "messages": args.messages,
            "notes": args.notes,
            "tags": TAGS,
        }
        for statement in [*GENERATE, *MORE]:
            started = time.perf_counter()
            await conn.execute(statement, params)  # type: ignore[arg-type]
            step = " ".join(statement.split()[:3])
            timings[step] = round(time.perf_counter() - started, 1)
        await conn.execute("VACUUM ANALYZE")
        started = time.perf_counter()
        async with conn.transaction():
            result = await followups_service.recompute(conn, account.id, _now())
        timings["first recompute"] = round(time.perf_counter() - started, 1)
        timings["open follow-ups"] = result.wanted
        await conn.execute("VACUUM ANALYZE crm.followups")
        row = await (
            await conn.execute("SELECT id FROM crm.tags WHERE name = 'Investor'")
        ).fetchone()
    assert row is not None
    return token, row[0], timings


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def measure(url: str, token: str, tag_id: int, requests: int) -> dict[str, dict[str, Any]]:
    scenarios = {
        # control: issue 7's unfiltered first page, 8.4 / 10.7 ms p50 / p95 at load 2.3; how
        # much slower it runs here says how loaded the shared machine was
        "control: contacts, no filter (API)": "/api/contacts",
        "contacts by tag (API, strength)": f"/api/contacts?tag={tag_id}",
        "contacts by tag (API, name)": f"/api/contacts?tag={tag_id}&sort=name",
        "contacts by tag (API, sorted by tag)": f"/api/contacts?tag={tag_id}&sort=tag",
        "contacts by tag (page)": f"/contacts?tag={tag_id}",
        "follow-ups (API)": "/api/followups",
        "follow-ups (page)": "/followups",
    }
    app = create_app(_settings(url))
    results = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        api = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://bench", headers=api) as http,
            httpx.AsyncClient(transport=transport, base_url="http://bench") as browser,
        ):
            await _login(browser)
            for name, path in scenarios.items():
                client = http if path.startswith("/api/") else browser
                results[name] = await _scenario(client, path, requests)
    return results


async def _login(browser: httpx.AsyncClient) -> None:
    """Log in through the form, as a person would (pages take a session, not a token)."""
    page = await browser.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "no csrf_token on the login page"
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": match[1], "next": "/"}
    assert (await browser.post("/login", data=form)).status_code in (302, 303)


async def _scenario(http: httpx.AsyncClient, path: str, requests: int) -> dict[str, Any]:
    for _ in range(5):  # warm the pool, caches and prepared plans
        assert (await http.get(path)).status_code == 200, path
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    summary: dict[str, Any] = {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
    }
    if path.startswith("/api/contacts"):
        summary["total"] = response.json()["total"]
    elif path == "/api/followups":
        body = response.json()
        summary["due"], summary["upcoming"] = len(body["due"]), len(body["upcoming"])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--notes", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    name = f"fm_bench_crm_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(args.dsn, dbname=name)
    try:
        token, tag_id, generated = asyncio.run(build(url, args))
        scenarios = asyncio.run(measure(url, token, tag_id, args.requests))
    finally:
        if not args.keep:
            with psycopg.connect(args.dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    worst = max(s["p95_ms"] for name, s in scenarios.items() if not name.startswith("control"))
    print(
        json.dumps(
            {
                "contacts": args.contacts,
                "messages": args.messages,
                "notes": args.notes,
                "requests": args.requests,
                "generate_seconds": generated,
                "scenarios": scenarios,
                "worst_p95_ms": worst,
                "bar_p95_ms": 100,
                "ok": worst < 100,
                "database": name if args.keep else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
