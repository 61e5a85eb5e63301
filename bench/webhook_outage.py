"""Webhook delivery through a receiver outage, for real (issue 14): a `fluffymail worker`
process with the production retry schedule (deliver_webhook.QUEUE_OPTIONS) and the 10-second
dispatch schedule delivers contact events to a local receiver that is down for `--down`
seconds (600: ten minutes) while the events keep coming; then it is started. Checks that every
event arrives once, signed, in order per contact, none lost, none given up.

Usage: DATABASE_URL=postgresql://... .venv/bin/python bench/webhook_outage.py
       [--down 600] [--people 20] [--changes 5] [--out bench/results/webhook_outage.json]
It makes its own database `fm_webhook_outage` on that server (dropped at the end). Prints JSON
and exits non-zero when an event is lost, duplicated or out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.db import migrate
from fluffymail.web.services import webhooks as webhooks_service

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.webhook_receiver import Receiver, verify

DB = "fm_webhook_outage"


def _database(server: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    return make_conninfo(server, dbname=DB)


async def _change(pool: AsyncConnectionPool, user_id: int, people: int, round_: int) -> None:
    async with pool.connection() as conn:
        for n in range(people):
            if round_ == 0:
                await conn.execute(
                    "INSERT INTO crm.contacts (user_id, primary_address, name, created)"
                    " VALUES (%s, %s, %s, true)",
                    (user_id, f"p{n}@outage.test", f"Person {n}"),
                )
            else:
                await conn.execute(
                    "UPDATE crm.contacts SET name = %s WHERE user_id = %s AND primary_address = %s",
                    (f"Person {n} v{round_}", user_id, f"p{n}@outage.test"),
                )


async def _states(pool: AsyncConnectionPool) -> dict[str, int]:
    async with pool.connection() as conn:
        rows = await (
            await conn.execute("SELECT state, count(*) FROM crm.webhook_deliveries GROUP BY 1")
        ).fetchall()
    return dict(rows)


def _check(received: list[Any], secret: str, events: int) -> dict[str, Any]:
    ids = [r.headers["webhook-id"] for r in received]
    per_contact: dict[int, list[int]] = defaultdict(list)
    for r in received:
        per_contact[r.event["data"]["contact_id"]].append(int(r.headers["webhook-id"][4:]))
    return {
        "events": events,
        "received": len(received),
        "unique": len(set(ids)),
        "signed_ok": all(verify(secret, r) for r in received),
        "in_order_per_contact": all(v == sorted(v) for v in per_contact.values()),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    url = _database(Settings().database_url or "")
    data_dir = Path(tempfile.mkdtemp(prefix="fm-outage-"))
    receiver = Receiver()
    key = secrets.generate_key()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLUFFYMAIL_DATA_DIR": str(data_dir),
        "FLUFFYMAIL_SECRET_KEY": key,
        "FLUFFYMAIL_OUTBOUND_ALLOW": "127.0.0.1",
        "FLUFFYMAIL_OUTBOUND_PORTS": str(receiver.port),
        "FLUFFYMAIL_LOG_LEVEL": "WARNING",
    }
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=key,
        outbound_allow="127.0.0.1",
        outbound_ports=str(receiver.port),
    )
    async with AsyncConnectionPool(
        url, min_size=1, max_size=4, kwargs={"autocommit": True}
    ) as pool:
        async with pool.connection() as conn:
            await migrate.upgrade(conn)
            user_id = (
                await (
                    await conn.execute(
                        "INSERT INTO crm.users (email) VALUES ('outage@x.test') RETURNING id"
                    )
                ).fetchone()
            )[0]
        made = await webhooks_service.create(
            pool, settings, user_id, url=receiver.url,
            events=["contact.created", "contact.updated"],
        )  # fmt: skip
        worker = subprocess.Popen(  # noqa: ASYNC220 - started once, never awaited
            [sys.executable, "-m", "fluffymail", "worker"], env=env, stdout=subprocess.DEVNULL
        )
        try:
            started = time.monotonic()
            rounds = args.changes + 1
            for round_ in range(rounds):  # the changes spread over the outage
                await _change(pool, user_id, args.people, round_)
                await asyncio.sleep(args.down / rounds)
            await asyncio.sleep(max(0.0, args.down - (time.monotonic() - started)))
            down_states = await _states(pool)
            await receiver.start()
            up = time.monotonic()
            events = args.people * rounds
            while (await _states(pool)).get("delivered", 0) < events:
                if time.monotonic() - up > args.give_up:
                    break
                if (await _states(pool)).get("failed"):
                    break
                await asyncio.sleep(1)
            drained = time.monotonic() - up
            async with pool.connection() as conn:
                attempts = await (
                    await conn.execute(
                        "SELECT max(attempts), sum(attempts) FROM crm.webhook_deliveries"
                    )
                ).fetchone()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
            await receiver.stop()
        result = {
            "down_seconds": args.down,
            "people": args.people,
            "changes_per_person": args.changes,
            "states_when_receiver_came_back": down_states,
            "states_at_end": await _states(pool),
            "seconds_from_back_to_all_delivered": round(drained, 1),
            "max_attempts_of_a_delivery": attempts[0],
            "attempts_total": attempts[1],
            **_check(receiver.received, made.secret, events),
        }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--down", type=float, default=600)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--give-up", type=float, default=7200, help="seconds after it is back")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    try:
        out = asyncio.run(main(args))
    finally:
        with psycopg.connect(Settings().database_url or "", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    ok = (
        out["received"] == out["unique"] == out["events"]
        and out["signed_ok"]
        and out["in_order_per_contact"]
        and not out["states_at_end"].get("failed")
    )
    sys.exit(0 if ok else 1)
