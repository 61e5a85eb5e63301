"""How many companies of the Enron dev mailboxes are a free-mail or home-ISP domain ("Rr",
"Comcast"), and what re-enrichment leaves.

Run: ``.venv/bin/python bench/eval_isp_companies.py [--dsn postgresql://postgres@127.0.0.1/postgres]
[--db NAME] [--reenrich]`` (corpus at ``<repo>/../shared/corpus`` or ``$FLUFFYMAIL_CORPUS``).

Per mailbox owner, in a scratch database: import the mailbox (the `sync-emails` code) and
extract its contacts, unless ``--db NAME`` names a database where it was imported before
(kept: import with one revision of the rules, count or ``--reenrich`` with another). Then, per
owner, the companies the companies list shows (with at least one visible person) and, among
them, those whose domain the rules in this tree call free mail or a consumer internet
provider's (`companies.is_free_mail_domain`). ``--reenrich`` then runs `enrich_contact` (what
the `enrich-contact` job runs) for every live contact, counts again and names the companies
that lost every visible person, to read by hand: each should be a provider, none a real company.
Nothing here is a bar: the figures compare revisions.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import uuid
from collections import Counter, defaultdict

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

import eval_relationships as rel
from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.contacts import companies, enrichment
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.db import migrate
from fluffymail.integrations.mail.file_source import FileSource
from fluffymail.jobs import build_registry, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner

EXTRACT_BATCH = 500
LISTED = """
SELECT u.email, co.domain, count(*) AS people
FROM crm.companies co
JOIN crm.users u ON u.id = co.user_id
JOIN crm.contacts c ON c.company_id = co.id AND c.user_id = co.user_id AND c.created
     AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
GROUP BY u.email, co.domain
"""
LIVE = "SELECT id FROM crm.contacts WHERE merged_into_id IS NULL AND suppressed_reason IS NULL"


async def import_all(pool: AsyncConnectionPool, queue: JobQueue, owners: list[rel.Owner]) -> None:
    """Import and extract every owner's mailbox (no analysis: companies do not need it)."""
    for owner in owners:
        async with pool.connection() as conn:
            user, _ = await mail_repo.get_or_create_user(conn, owner.email)
            connection, _ = await mail_repo.upsert_connection(
                conn, user_id=user.id, kind=owner.kind, source=str(owner.path)
            )
        await sync_emails.sync_connection(
            pool=pool,
            queue=queue,
            connection_id=connection.id,
            clock=SystemClock(),
            source=FileSource(owner.path),
        )
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id FROM crm.messages WHERE user_id = %s ORDER BY id", (user.id,)
            )
            ids = [r[0] for r in await cur.fetchall()]
            for i in range(0, len(ids), EXTRACT_BATCH):
                async with conn.transaction():
                    await contacts_service.extract_messages(
                        conn, ids[i : i + EXTRACT_BATCH], now=SystemClock().now()
                    )


async def listed(pool: AsyncConnectionPool) -> set[tuple[str, str]]:
    """(owner, company domain) of every company the companies list shows."""
    async with pool.connection() as conn:
        return {(r[0], r[1]) for r in await (await conn.execute(LISTED)).fetchall()}


def report(label: str, shown: set[tuple[str, str]]) -> None:
    per_owner = Counter(owner for owner, _ in shown)
    isp: dict[str, list[str]] = defaultdict(list)
    for owner, domain in sorted(shown):
        if companies.is_free_mail_domain(domain):
            isp[owner].append(domain)
    for owner in sorted(per_owner):
        print(f"# {label} {owner}: {per_owner[owner]} companies, free mail or ISP: {isp[owner]}")
    print(f"{label}_companies_listed {len(shown)}  (summed over mailboxes)")
    print(f"{label}_companies_free_mail_or_isp {sum(len(v) for v in isp.values())}")
    print(f"{label}_company_domains_distinct {len({d for _, d in shown})}")


async def reenrich(pool: AsyncConnectionPool) -> int:
    """`enrich_contact` for every live contact; how many left a free-mail company."""
    async with pool.connection() as conn:
        ids = [r[0] for r in await (await conn.execute(LIVE)).fetchall()]
    left = 0
    for contact_id in ids:
        async with pool.connection() as conn, conn.transaction():
            output = await contacts_service.enrich_contact(
                conn, contact_id, providers=enrichment.default_providers(), now=SystemClock().now()
            )
        left += bool(output.get("left_company"))
    return left


async def run(url: str, owners: list[rel.Owner], *, again: bool) -> None:
    pool = AsyncConnectionPool(url, kwargs={"autocommit": True}, open=False, max_size=4)
    await pool.open()
    queue = JobQueue(pool)
    try:
        async with pool.connection() as conn:
            await migrate.upgrade(conn)
            imported = await (await conn.execute("SELECT EXISTS (TABLE crm.messages)")).fetchone()
        deps = JobDeps(
            settings=Settings(database_url=url),
            pool=pool,
            queue=queue,
            log=logging.getLogger("eval"),
        )
        await runner.prepare(queue, build_registry(deps))
        if not (imported and imported[0]):
            await import_all(pool, queue, owners)
        before = await listed(pool)
        report("listed", before)
        if again:
            print(f"reenrich_contacts_left_company {await reenrich(pool)}")
            after = await listed(pool)
            report("reenriched", after)
            lost = sorted({d for _, d in before - after})
            print(f"# companies that lost every visible person: {', '.join(lost) or 'none'}")
    finally:
        await queue.stop(grace=1)
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--db", help="Keep the scratch database under this name; reuse it")
    parser.add_argument("--reenrich", action="store_true", help="Enrich every contact again")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    owners = rel.load_owners(rel.corpus_root())
    name = args.db or f"fm_qa_isp_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        asyncio.run(run(make_conninfo(args.dsn, dbname=name), owners, again=args.reenrich))
    finally:
        if not args.db:
            with psycopg.connect(args.dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
