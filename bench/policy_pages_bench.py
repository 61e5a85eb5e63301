"""Connection pages benchmark (issue 19): on a kept database (e.g. `pipeline_bench.py --keep`),
the cost of one connection's policy explanation and of the first page of its people who wrote,
as statements (EXPLAIN ANALYZE) and as the product reads them (repo, service, routes).

Usage: .venv/bin/python bench/policy_pages_bench.py --database fm_pipe_… [--connection ID]
           [--dsn postgresql://postgres@127.0.0.1/test] [--repeat 20] [--plans]
           [--compare OTHER_SRC]
No ANALYZE of its own: the planner statistics are what the product left (each table's last
ANALYZE is reported). `--plans` prints each statement's EXPLAIN (ANALYZE, BUFFERS) once, to
stderr. `--compare OTHER_SRC` (another revision's `src`) also runs its two statements on every
connection (and as another user) and says whether every row is the same. Prints JSON: p50 / p95
milliseconds per read (the project's bar for web reads: p95 < 100 ms at 1M messages).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.config import Settings
from fluffymail.crm.contacts import policy
from fluffymail.db.sql import load_sql
from fluffymail.web.app import create_app
from fluffymail.web.deps import SESSION_COOKIE
from fluffymail.web.services import accounts
from fluffymail.web.services import contact_policy as policy_service

SQL = load_sql("fluffymail.crm.contacts")
STATEMENTS = {"policy_explain": {}, "policy_waiting": {"limit": 50, "offset": 0}}
STATS = """
SELECT relname, n_live_tup, last_analyze, last_autoanalyze FROM pg_stat_user_tables
WHERE schemaname = 'crm' AND relname IN ('messages', 'folders', 'message_folders', 'contacts',
      'contact_links', 'contact_addresses', 'message_pending', 'message_automated')
ORDER BY relname
"""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "min_ms": round(min(times), 1),
    }


async def _timed(repeat: int, run: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    await run()  # warm the caches and the pool
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return _summary(times)


async def _statements(
    url: str, user_id: int, connection_id: int, repeat: int, plans: bool
) -> dict[str, Any]:
    """Each statement's server-side execution time (EXPLAIN ANALYZE, custom plans as the product's
    first executions get) and its top node's buffers."""
    out: dict[str, Any] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for name, extra in STATEMENTS.items():
            params = {"user_id": user_id, "connection_id": connection_id, **extra}
            if plans:
                statement = "EXPLAIN (ANALYZE, BUFFERS) " + SQL[name]
                cur = await conn.execute(statement, params)  # type: ignore[arg-type]
                text = "\n".join(r[0] for r in await cur.fetchall())
                sys.stderr.write(f"--- {name}\n{text}\n")
            times, hit, read = [], 0, 0
            for _ in range(repeat + 1):
                cur = await conn.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + SQL[name],  # type: ignore[arg-type]
                    params,
                )
                plan = (await cur.fetchone())[0][0]  # type: ignore[index]
                times.append(plan["Execution Time"] + plan["Planning Time"])
                hit = plan["Plan"].get("Shared Hit Blocks", 0)
                read = plan["Plan"].get("Shared Read Blocks", 0)
            out[name] = {**_summary(times[1:]), "shared_hit": hit, "shared_read": read}
    return out


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    url = make_conninfo(args.dsn, dbname=args.database)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        stats = await (await conn.execute(STATS)).fetchall()
        query = (
            "SELECT cn.id, cn.user_id, u.email FROM crm.connections cn"
            " JOIN crm.users u ON u.id = cn.user_id"
        )
        if args.connection:
            query += f" WHERE cn.id = {int(args.connection)}"
        query += " ORDER BY cn.stored_count DESC LIMIT 1"
        row = await (await conn.execute(query)).fetchone()
    if row is None:
        raise SystemExit("no such connection")
    connection_id, user_id, email = row
    out: dict[str, Any] = {
        "database": args.database,
        "connection_id": connection_id,
        "tables": [[r[0], r[1], str(r[2]), str(r[3])] for r in stats],
        "load_avg_start": os.getloadavg(),
    }
    out["statements"] = await _statements(url, user_id, connection_id, args.repeat, args.plans)

    settings = Settings(
        database_url=url, migrate_on_start=False, log_level="WARNING", pool_min_size=2,
        pool_max_size=4,
    )  # fmt: skip
    app = create_app(settings)
    reads: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        pool = app.state.fm.pool
        account = await accounts.find_account(pool, email)
        assert account is not None
        cookie, _ = await accounts.start_session(pool, account)
        token = await accounts.create_api_token(pool, account.id, "bench")

        async def explain() -> None:
            async with pool.connection() as conn:
                assert await policy.explain(conn, user_id, connection_id) is not None

        async def waiting() -> None:
            async with pool.connection() as conn:
                await policy.waiting(conn, user_id, connection_id, limit=50, offset=0)

        async def people() -> None:
            await policy_service.people(pool, user_id, connection_id, limit=50, offset=0)

        found = await policy_service.people(pool, user_id, connection_id, limit=50, offset=0)
        out["counts"] = {
            k: str(v) if k == "policy" else v for k, v in vars_of(found.explanation.counts).items()
        }
        out["waiting_total"] = found.page.total
        out["first_senders"] = [(s.address, s.messages) for s in found.page.items[:3]]
        reads["explain (repo)"] = await _timed(args.repeat, explain)
        reads["people who wrote, first 50 (repo)"] = await _timed(args.repeat, waiting)
        reads["people page (service: connection + explain + first 50)"] = await _timed(
            args.repeat, people
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            http.cookies.set(SESSION_COOKIE, cookie)

            async def page() -> None:
                response = await http.get(f"/connections/{connection_id}/people")
                assert response.status_code == 200, response.status_code

            async def api() -> None:
                response = await http.get(
                    f"/api/connections/{connection_id}/people",
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 200, response.status_code

            reads["GET /connections/{id}/people (HTML)"] = await _timed(args.repeat, page)
            reads["GET /api/connections/{id}/people"] = await _timed(args.repeat, api)
        await accounts.end_session(pool, cookie)
    out["reads"] = reads
    out["load_avg_end"] = os.getloadavg()
    if args.compare:
        out["same_rows_as"] = {str(args.compare): await compare(url, args.compare)}
    return out


PAGES = ((5000, 0), (50, 0), (50, 50), (7, 940), (10, 5000))


async def compare(url: str, other_src: Path) -> dict[str, bool]:
    """Whether this tree's statements return the rows `other_src`'s return, per connection
    (each as its user and as a user it is not), for the explanation and pages of people."""
    other = other_src / "fluffymail" / "crm" / "contacts" / "sql"
    same: dict[str, bool] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        connections = await (
            await conn.execute("SELECT id, user_id FROM crm.connections ORDER BY id")
        ).fetchall()
        for connection_id, user_id in connections:
            for who, uid in (("user", user_id), ("stranger", user_id + 1_000_000)):
                for name, pages in (("policy_explain", ((0, 0),)), ("policy_waiting", PAGES)):
                    old = (other / f"{name}.sql").read_text()
                    for limit, offset in pages:
                        params = {"user_id": uid, "connection_id": connection_id,
                                  "limit": limit, "offset": offset}  # fmt: skip
                        theirs = await (await conn.execute(old, params)).fetchall()  # type: ignore[arg-type]
                        ours = await (await conn.execute(SQL[name], params)).fetchall()
                        key = f"{name} connection {connection_id} as {who}"
                        same[key] = same.get(key, True) and theirs == ours
    return same


def vars_of(counts: Any) -> dict[str, Any]:
    return {name: getattr(counts, name) for name in counts.__slots__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--database", required=True)
    parser.add_argument("--connection", type=int, help="default: the largest connection")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--plans", action="store_true", help="print the plans to stderr")
    parser.add_argument("--compare", type=Path, help="another revision's src: same rows?")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args)), indent=2, default=str))


if __name__ == "__main__":
    main()
