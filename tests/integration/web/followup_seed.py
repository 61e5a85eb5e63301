"""Open loops for the follow-ups tests: recent mail (relative to the database's now) between
the user and two of the seeded contacts, linked to them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

QUESTION = "Could you send me the signed contract before Friday?"
PROMISE = "I'll send you the revised budget on Monday."


async def _message(
    conn: Any, user_id: int, key: str, sender: str, to: str, at: datetime, body: str, role: str
) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO crm.messages (user_id, dedup_key, subject, body_text, from_address,"
            " date, message_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (user_id, f"fu:{user_id}:{key}", f"About {key}", body, sender, at, f"<{key}@t>"),
        )
    ).fetchone()
    contact_address = sender if role == "received_from" else to
    await conn.execute(
        "INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on, visible)"
        " VALUES (%s, %s, %s, %s, %s, true)",
        (row[0], contact_address, role, user_id, at),
    )
    return int(row[0])


async def keep_live(pool: AsyncConnectionPool, user_id: int) -> None:
    """A message dated now, to no contact: the mailbox is live, so its follow-ups are due as of
    now. Without it a mailbox of only contact_seed's mail (dated up to 1 March 2026) is, once
    the clock is 90 days past that, an archive: due as of its last day (crm/followups `as_of`)."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO crm.messages (user_id, dedup_key, subject, body_text, from_address,"
            " date) VALUES (%s, %s, 'Filed', 'Filed.', 'me@mine.test', now())",
            (user_id, f"fu:{user_id}:live"),
        )


async def seed_loops(pool: AsyncConnectionPool, user_id: int, domain: str = "acme.test") -> dict:
    """Linus asks a question three days ago (unanswered); the user promises Ada something four
    days ago; an older question of Ada's was answered since; a vendor the user never wrote to
    asks one too (cold outreach: no follow-up). Returns the message ids."""
    async with pool.connection() as conn, conn.transaction():
        now = (await (await conn.execute("SELECT now()")).fetchone())[0]
        me = "me@mine.test"
        vendor = await (
            await conn.execute(
                "INSERT INTO crm.contacts (user_id, primary_address, name, created,"
                " received_from_count) VALUES (%s, 'rep@vendor.test', 'Vendor Rep', true, 1)"
                " RETURNING id",
                (user_id,),
            )
        ).fetchone()
        await conn.execute(
            "INSERT INTO crm.contact_addresses (user_id, address, contact_id) VALUES (%s, %s, %s)",
            (user_id, "rep@vendor.test", vendor[0]),
        )
        return {
            "vendor": vendor[0],
            "pitch": await _message(
                conn,
                user_id,
                "pitch",
                "rep@vendor.test",
                me,
                now - timedelta(days=3),
                "Do you have ten minutes for a demo of our lead tool?",
                "received_from",
            ),
            "answered": await _message(
                conn,
                user_id,
                "answered",
                f"ada@{domain}",
                me,
                now - timedelta(days=6),
                "Can you join the review on Tuesday?",
                "received_from",
            ),
            "question": await _message(
                conn,
                user_id,
                "question",
                f"linus@{domain}",
                me,
                now - timedelta(days=3),
                f"Hi,\n\n{QUESTION}\n\nThanks\n-- \nLinus",
                "received_from",
            ),
            "promise": await _message(
                conn,
                user_id,
                "promise",
                me,
                f"ada@{domain}",
                now - timedelta(days=4),
                f"Yes, I can make it. {PROMISE}\n\nOn Tue, Ada wrote:\n> Can you join?",
                "sent_to",
            ),
        }
