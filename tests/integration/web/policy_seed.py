"""An inbox-only mailbox (issue 12, section 5): three people wrote to the owner, one newsletter,
and optionally one message the owner sent; imported and extracted for a user."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.jobs import sync_emails
from fluffymail.queue import JobQueue
from tests.integration.contacts.conftest import mail
from tests.integration.mail.conftest import write_mbox
from tests.integration.web.connections_support import ensure_queues

WROTE = {"ann@acme.example": 3, "bob@beta.example": 2, "cy@gamma.example": 1}
EVE = "eve@delta.example"


def inbox(folder: Path, owner: str, *, outgoing: bool = False) -> Path:
    """Received mail only (three people and a newsletter); with `outgoing`, one message the
    owner wrote to Eve too."""
    messages, n = [], 0
    for address, count in WROTE.items():
        name = address.split("@")[0].capitalize()
        for _ in range(count):
            n += 1
            messages.append(mail(n, sender=f"{name} Writer <{address}>", to=f"Me <{owner}>"))
    unsubscribe = "List-Unsubscribe: <mailto:u@shop.example>"
    messages.append(mail(90, sender="Shop <news@shop.example>", to=owner, headers=unsubscribe))
    if outgoing:
        messages.append(mail(91, sender=f"Me <{owner}>", to=f"Eve Friend <{EVE}>"))
    return write_mbox(folder / "inbox.mbox", messages)


async def seed_inbox(
    pool: AsyncConnectionPool, user_id: int, owner: str, folder: Path, *, extract: bool = True
) -> int:
    """Import `inbox` into a new mbox connection of the user (and extract it); its id."""
    path = inbox(folder, owner)
    async with pool.connection() as conn:
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user_id, kind=ConnectionKind.MBOX, source=str(path),
            display_name="Inbox export",
        )  # fmt: skip
    queue = JobQueue(pool, listen=False)
    await ensure_queues(queue)
    clock = SystemClock()
    await sync_emails.sync_connection(
        pool=pool, queue=queue, connection_id=connection.id, clock=clock
    )
    if extract:
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT id FROM crm.messages WHERE user_id = %s ORDER BY id", (user_id,)
            )
            ids = [r[0] for r in await cur.fetchall()]
            await contacts_service.extract_messages(conn, ids, now=clock.now())
    return connection.id
