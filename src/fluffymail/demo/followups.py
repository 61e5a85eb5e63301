"""The demo's follow-ups: keep-in-touch cadences on two of the sample mailbox's people (one kept
up, one long neglected), the follow-ups recomputed as the nightly job does (reminders
scheduled), and a table of what is due and why."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.followups import service as followups_service
from fluffymail.db.sql import load_sql
from fluffymail.demo import mailbox
from fluffymail.jobs import followup_reminder
from fluffymail.queue import JobQueue

SQL = load_sql("fluffymail.demo")
REMINDERS = followup_reminder.QUEUE
CADENCES = {"maya": 14, "omar": 60}  # days: Maya is written to weekly, Omar went quiet a year ago
REASONS = {
    "cadence": "keep in touch",
    "cold": "going cold",
    "question": "they asked",
    "promise": "you promised",
    "met": "met, no mail since",
}


async def set_up(pool: Any, queue: JobQueue, user_id: int) -> int:
    """Set the demo cadences and recompute; how many follow-ups are open."""
    addresses = [mailbox.PEOPLE[name].email for name in CADENCES]
    async with pool.connection() as conn, conn.transaction():
        params = {"user_id": user_id, "addresses": addresses}
        found = dict(await (await conn.execute(SQL["demo_contacts_by_address"], params)).fetchall())
        for name, days in CADENCES.items():
            if contact_id := found.get(mailbox.PEOPLE[name].email):
                await followups_repo.set_cadences(conn, user_id, [contact_id], days)
        now = (await (await conn.execute("SELECT now()")).fetchone())[0]
        result = await followups_service.recompute(conn, user_id, now)
        await followup_reminder.schedule(queue, result.reschedule, conn=conn)
        await followup_reminder.cancel(queue, result.closed, conn=conn)
    return result.open


async def due_table(pool: Any, user_id: int, limit: int = 10) -> Table:
    async with pool.connection() as conn:
        now = (await (await conn.execute("SELECT now()")).fetchone())[0]
        at = (await followups_service.as_of(conn, user_id, now)).at  # as the Follow-ups page
        due = await followups_repo.list_followups(conn, user_id, until=at, limit=limit)
    table = Table(title="Follow-ups due (open them at /followups)")
    for column in ("why", "who", "what"):
        table.add_column(column)
    for f in due:
        table.add_row(REASONS[f.reason.value], f.contact_name, f.detail)
    return table
