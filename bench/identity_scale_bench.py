"""Identity merges at scale: one user with N named colleagues (and N/10 nameless handles) at
one company host, then one extraction batch of M messages bringing new people there, named and
nameless. Times the batch (`extract_messages`, in one transaction rolled back after each run,
so every run sees the same data) and its `_merge_by_address` step, and counts the rows the
address-pair reads return and the merges made.

Usage: .venv/bin/python bench/identity_scale_bench.py [--dsn postgresql://postgres@127.0.0.1/test]
       [--people 20000] [--messages 500] [--runs 5] [--kinds 0,1,2,3] [--show-merges]
Another tree is timed with PYTHONPATH=<that tree>/src (the database is migrated by the code
that runs: a tree without migration 0053 has no name-key indexes). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import identity
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.db import migrate
from fluffymail.jobs import build_registry, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner

OWNER = "olive@owner-co.com"
HOST = "bigco.com"
CLOCK = SystemClock()
_ONSETS = ["b", "d", "k", "l", "m", "n", "p", "r", "s", "t", "v", "br", "gr", "st", "ch", "j"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea"]
_CODAS = ["", "n", "r", "l", "s", "rt", "nd", "ck", "ld"]


def _word(rng: random.Random, syllables: int) -> str:
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)]
    return ("".join(parts) + rng.choice(_CODAS)).capitalize()


def _names(rng: random.Random, count: int, syllables: tuple[int, int]) -> list[str]:
    found: set[str] = set()
    while len(found) < count:
        found.add(_word(rng, rng.randint(*syllables)))
    return sorted(found)


class People:
    """Synthetic given and family names drawn as real ones spread: the commonest given name
    about 2.5 % of people, the commonest family name about 0.6 % (weights 1 / (rank + 10) over
    400 given names, 1 / (rank + 30) over 6,000 family names)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.givens = _names(rng, 400, (1, 2))
        self.families = _names(rng, 6000, (2, 3))
        rng.shuffle(self.givens)
        rng.shuffle(self.families)
        self.given_weights = list(itertools.accumulate(1 / (r + 10) for r in range(1, 401)))
        self.family_weights = list(itertools.accumulate(1 / (r + 30) for r in range(1, 6001)))
        self.used: set[tuple[str, str]] = set()

    def new(self) -> tuple[str, str]:
        while True:
            given = self.rng.choices(self.givens, cum_weights=self.given_weights)[0]
            family = self.rng.choices(self.families, cum_weights=self.family_weights)[0]
            if (given, family) not in self.used:
                self.used.add((given, family))
                return given, family


def handle(given: str, family: str, rng: random.Random) -> str:
    g, f = given.lower(), family.lower()
    return rng.choice([g[0] + f, g + f[0], f + g[0], (g[0] + f)[:8]])


SEED_COMPANY = """
INSERT INTO crm.companies (user_id, domain, name) VALUES (%(u)s, %(host)s, 'Bigco')
RETURNING id
"""
SEED_CONTACTS = """
INSERT INTO crm.contacts (user_id, primary_address, name, first_name, last_name, name_quality,
                          identity_key, company_id, created, sent_to_count)
SELECT %(u)s, r.address, r.name, r.first, r.last, r.quality, r.key, %(company)s, true, 1
FROM jsonb_to_recordset(%(rows)s::jsonb)
     AS r(address text, name text, first text, last text, quality int, key text)
"""
SEED_ADDRESSES = """
INSERT INTO crm.contact_addresses (user_id, address, contact_id)
SELECT user_id, primary_address, id FROM crm.contacts WHERE user_id = %(u)s
"""


def seed_rows(people: People, count: int) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """`count` named colleagues at HOST and `count // 10` nameless handles of other names."""
    rows, named = [], []
    addresses: set[str] = set()
    for _ in range(count):
        first, last = people.new()
        address = f"{first}.{last}@{HOST}".lower()
        addresses.add(address)
        named.append((first, last))
        rows.append({"address": address, "name": f"{first} {last}", "first": first,
                     "last": last, "quality": 3, "key": f"{first} {last}@{HOST}".lower()})  # fmt: skip
    for _ in range(count // 10):
        first, last = people.new()
        address = f"{handle(first, last, people.rng)}@{HOST}"
        if address not in addresses:
            addresses.add(address)
            rows.append({"address": address, "name": "", "first": "", "last": "",
                         "quality": 0, "key": None})  # fmt: skip
    return rows, named


def batch_mail(
    people: People, named: list[tuple[str, str]], count: int, kinds: tuple[int, ...]
) -> list[bytes]:
    """Sent mail, in turn of `kinds`: 0 to new named people, 1 to bare handles of known ones,
    2 to known named ones, 3 to new named people with a bare handle of theirs."""
    rng, messages = people.rng, []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        if kind == 0:
            first, last = people.new()
            to = f"{first} {last} <{first.lower()}.{last.lower()}@{HOST}>"
        elif kind == 1:
            first, last = rng.choice(named)
            to = f"{handle(first, last, rng)}@{HOST}"
        elif kind == 2:
            first, last = rng.choice(named)
            to = f"{first} {last} <{first.lower()}.{last.lower()}@{HOST}>"
        else:
            first, last = people.new()
            bare = f"{handle(first, last, rng)}@{HOST}"
            to = f"{first} {last} <{first.lower()}.{last.lower()}@{HOST}>, {bare}"
        messages.append(
            f"From: Olive Owner <{OWNER}>\nTo: {to}\nSubject: note {n}\n"
            f"Date: Mon, 1 Jan 2001 10:{n % 60:02d}:{n // 60 % 60:02d} +0000\n"
            f"Message-ID: <b{n}@example.com>\n\nbody {n}\n".encode()
        )
    return messages


def write_maildir(root: Path, messages: list[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / ".Sent" / sub).mkdir(parents=True, exist_ok=True)
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(messages):
        (root / ".Sent" / "cur" / f"{1000 + i}.M{i}P0.bench,S={len(raw)}:2,S").write_bytes(raw)
    return root


class Meter:
    """Time `_merge_by_address` and its parts (the address-candidate reads, the pairing, the
    merges it makes), and count the rows the reads return."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.parts: dict[str, float] = {"reads": 0.0, "pairing": 0.0, "merges": 0.0}
        self.rows = 0
        merge = contacts_service._merge_by_address  # the step measured

        async def timed(*args: Any, **kwargs: Any) -> int:
            started = time.perf_counter()
            contacts_service.merge_contacts = self._timed(merge_contacts, "merges")
            try:
                return await merge(*args, **kwargs)
            finally:
                contacts_service.merge_contacts = merge_contacts
                self.seconds.append(time.perf_counter() - started)

        merge_contacts = contacts_service.merge_contacts
        contacts_service._merge_by_address = timed
        pairs = identity.address_pairs

        def paired(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return pairs(*args, **kwargs)
            finally:
                self.parts["pairing"] += time.perf_counter() - started

        identity.address_pairs = paired
        for name in dir(contacts_repo):
            if name.startswith("address_candidates"):
                setattr(contacts_repo, name, self._counted(getattr(contacts_repo, name)))

    def _timed(self, call: Callable[..., Awaitable[Any]], part: str) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            finally:
                self.parts[part] += time.perf_counter() - started

        return timed

    def _counted(self, read: Callable[..., Awaitable[list[Any]]]) -> Callable[..., Any]:
        timed = self._timed(read, "reads")

        async def counted(*args: Any, **kwargs: Any) -> list[Any]:
            found = await timed(*args, **kwargs)
            self.rows += len(found)
            return found

        return counted


async def prepare(
    url: str, people: int, messages: int, kinds: tuple[int, ...]
) -> tuple[int, list[int]]:
    pool = AsyncConnectionPool(url, kwargs={"autocommit": True}, open=False, max_size=4)
    await pool.open()
    queue = JobQueue(pool)
    try:
        async with pool.connection() as conn:
            await migrate.upgrade(conn)
        log = logging.getLogger("bench")
        deps = JobDeps(settings=Settings(database_url=url), pool=pool, queue=queue, log=log)
        await runner.prepare(queue, build_registry(deps, CLOCK))
        fake = People(random.Random(7))
        rows, named = seed_rows(fake, people)
        async with pool.connection() as conn:
            user, _ = await mail_repo.get_or_create_user(conn, OWNER)
            company = (await (await conn.execute(SEED_COMPANY, {"u": user.id, "host": HOST})).fetchone())[0]  # type: ignore[index]  # fmt: skip
            await conn.execute(SEED_CONTACTS, {"u": user.id, "company": company, "rows": json.dumps(rows)})  # fmt: skip
            await conn.execute(SEED_ADDRESSES, {"u": user.id})
            await conn.execute("ANALYZE")
            with tempfile.TemporaryDirectory() as tmp:
                path = write_maildir(Path(tmp) / "mail", batch_mail(fake, named, messages, kinds))
                connection, _ = await mail_repo.upsert_connection(
                    conn, user_id=user.id, kind=ConnectionKind.MAILDIR, source=str(path)
                )
                await sync_emails.sync_connection(
                    pool=pool, queue=queue, connection_id=connection.id, clock=CLOCK
                )
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT id FROM crm.messages ORDER BY id")
            ids = [r[0] for r in await cur.fetchall()]
        return user.id, ids
    finally:
        await queue.stop(grace=1)
        await pool.close()


async def measure(url: str, ids: list[int], runs: int) -> dict[str, Any]:
    meter = Meter()
    batch: list[float] = []
    parts: list[dict[str, float]] = []
    merges: list[Any] = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for _ in range(runs):
            meter.rows = 0
            meter.parts = dict.fromkeys(meter.parts, 0.0)
            parts.append(meter.parts)
            try:
                async with conn.transaction():
                    started = time.perf_counter()
                    result = await contacts_service.extract_messages(conn, ids, now=CLOCK.now())
                    batch.append(time.perf_counter() - started)
                    cur = await conn.execute(
                        "SELECT reason, addresses FROM crm.contact_merges ORDER BY addresses"
                    )
                    merges = [(r[0], r[1]) for r in await cur.fetchall()]
                    raise psycopg.Rollback
            except psycopg.Rollback:
                pass
    by_reason: dict[str, int] = {}
    for reason, _ in merges:
        by_reason[reason] = by_reason.get(reason, 0) + 1
    return {
        "batch_ms_median": round(statistics.median(batch) * 1000, 1),
        "batch_ms": [round(s * 1000, 1) for s in batch],
        "merge_by_address_ms_median": round(statistics.median(meter.seconds) * 1000, 1),
        "merge_by_address_ms": [round(s * 1000, 1) for s in meter.seconds],
        **{
            f"{part}_ms_median": round(statistics.median(p[part] for p in parts) * 1000, 1)
            for part in meter.parts
        },
        "candidate_rows_read": meter.rows,
        "messages": len(ids),
        "contacts_created": result.contacts_created,
        "merges": result.merges,
        "merges_by_reason": by_reason,
        "merged_addresses": sorted(a for _, addresses in merges for a in addresses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--kinds", default="0,1,2,3", help="the batch's mail, in turn (batch_mail): 0,1,2,3"
    )
    parser.add_argument("--show-merges", action="store_true")
    args = parser.parse_args()
    name = f"fm_idbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(args.dsn, dbname=name)
        kinds = tuple(int(k) for k in args.kinds.split(","))
        _, ids = asyncio.run(prepare(url, args.people, args.messages, kinds))
        output = asyncio.run(measure(url, ids, args.runs))
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not args.show_merges:
        output["merged_addresses"] = len(output["merged_addresses"])
    print(json.dumps({"people": args.people, "kinds": args.kinds, **output}, indent=2))


if __name__ == "__main__":
    main()
