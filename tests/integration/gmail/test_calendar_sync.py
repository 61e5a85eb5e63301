"""Google Calendar sync against the emulator with the real client: a full listing in pages,
sync-token increments (updated, new and cancelled events), 410 Gone answered by a full
listing that sweeps what is gone, attendees joined by address under the creation policy, and
a grant without the calendar scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import FrozenClock
from fluffymail.config import Settings
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.integrations.calendar.google import CalendarConfig, GoogleCalendarSource
from fluffymail.integrations.mail.gmail import GmailToken
from fluffymail.jobs import analyze_relationships, sync_calendar
from fluffymail.queue import JobQueue

from .emulator import SCOPE, GmailEmulator

OWNER = "owner@example.com"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def add(
    em: GmailEmulator, title: str, days_ago: float, *people: str, organizer: str = OWNER
) -> str:
    """An event on the owner's calendar with `people` invited (the owner too)."""
    start = NOW - timedelta(days=days_ago)
    attendees: list[dict[str, Any]] = [
        {
            "email": OWNER,
            "self": True,
            "responseStatus": "accepted",
            "organizer": organizer == OWNER,
        }
    ]
    attendees += [
        {"email": p, "displayName": p.split("@")[0].title(), "responseStatus": "accepted",
         "organizer": p == organizer}
        for p in people
    ]  # fmt: skip
    return em.add_event(
        summary=title,
        start={"dateTime": start.isoformat()},
        end={"dateTime": (start + timedelta(hours=1)).isoformat()},
        organizer={"email": organizer, "self": organizer == OWNER},
        attendees=attendees if people else [],
    )


def source(em: GmailEmulator, scope: str | None = None) -> GoogleCalendarSource:
    access, refresh = em.grant(scope) if scope else em.grant()
    token = GmailToken(
        refresh_token=refresh, client_id="client-id", client_secret="client-secret",
        access_token=access, expiry=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip
    config = CalendarConfig(
        api_endpoint=em.url + "calendar/v3/", token_uri=em.token_uri, page_size=2
    )
    return GoogleCalendarSource(config, token)


async def connect(pool: AsyncConnectionPool, queue: JobQueue) -> int:
    await queue.create_queue(analyze_relationships.QUEUE)
    async with pool.connection() as conn:
        user, _ = await mail_repo.get_or_create_user(conn, OWNER)
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user.id, kind=ConnectionKind.GMAIL, source=OWNER
        )
    return connection.id


async def run(pool: AsyncConnectionPool, queue: JobQueue, em: GmailEmulator, cid: int, **kw: Any):
    return await sync_calendar.sync_calendar(
        pool=pool, queue=queue, connection_id=cid, clock=FrozenClock(NOW),
        settings=Settings(), source=source(em, **kw),
    )  # fmt: skip


async def meetings(pool: AsyncConnectionPool) -> dict[str, list[str]]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT m.title, array_agg(a.address ORDER BY a.address) FROM crm.meetings m"
            " JOIN crm.meeting_attendees a ON a.meeting_id = m.id GROUP BY m.id ORDER BY m.title"
        )
        return dict(await cur.fetchall())


async def test_calendar_sync__full_then_increments_then_gone(
    pool: AsyncConnectionPool, queue: JobQueue, emulator: GmailEmulator
) -> None:
    cid = await connect(pool, queue)
    kickoff = add(emulator, "Kickoff", 10, "ann@acme.com")
    theirs = add(emulator, "Their call", 5, "bob@beta.io", organizer="bob@beta.io")
    add(emulator, "Focus time", 4)  # nobody else: not a meeting
    pitch = add(emulator, "Pitch", 3, "cy@gamma.org")

    first = await run(pool, queue, emulator, cid)
    assert first["status"] == "ok" and first["stored"] == 3 and first["skipped"] == 1
    assert await meetings(pool) == {
        "Kickoff": ["ann@acme.com"], "Pitch": ["cy@gamma.org"], "Their call": ["bob@beta.io"]
    }  # fmt: skip
    async with pool.connection() as conn:
        contacts = await (await conn.execute(
            "SELECT primary_address, created, name FROM crm.contacts ORDER BY 1")).fetchall()  # fmt: skip
        cursor = await (await conn.execute(
            "SELECT calendar_cursor FROM crm.connections WHERE id = %s", (cid,))).fetchone()  # fmt: skip
    # policy `sent`: the people the owner invited become contacts; Bob's invitation does not
    assert contacts == [("ann@acme.com", True, "Ann"), ("cy@gamma.org", True, "Cy")]
    assert cursor[0]["sync_token"].startswith("sync-")

    emulator.update_event(kickoff, summary="Kickoff (moved)")
    emulator.cancel_event(pitch)
    add(emulator, "Follow-up", 1, "ann@acme.com")
    second = await run(pool, queue, emulator, cid)
    assert (second["stored"], second["removed"]) == (2, 1)  # only the changes were listed
    assert set(await meetings(pool)) == {"Kickoff (moved)", "Their call", "Follow-up"}

    emulator.expire_sync_tokens()  # and an event vanishes without a cancellation record
    del emulator.events[theirs]
    third = await run(pool, queue, emulator, cid)
    assert third["status"] == "ok" and third["removed"] == 1
    assert set(await meetings(pool)) == {"Kickoff (moved)", "Follow-up"}
    again = await run(pool, queue, emulator, cid)  # idempotent: nothing new
    assert (again["stored"], again["removed"]) == (0, 0)
    assert len(await queue.find_jobs(name=analyze_relationships.QUEUE)) >= 1

    # a looser policy, then the full listing a policy change sends: Dee becomes a contact
    add(emulator, "Their pitch", 2, "dee@delta.io", organizer="dee@delta.io")
    await run(pool, queue, emulator, cid)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE crm.connections SET contact_policy = 'sent_and_received' WHERE id = %s", (cid,)
        )
    await sync_calendar.sync_calendar(
        pool=pool, queue=queue, connection_id=cid, clock=FrozenClock(NOW), settings=Settings(),
        source=source(emulator), full=True,
    )  # fmt: skip
    async with pool.connection() as conn:
        dee = await (await conn.execute(
            "SELECT created FROM crm.contacts WHERE primary_address = 'dee@delta.io'")).fetchall()  # fmt: skip
    assert dee == [(True,)]


async def test_calendar_sync__grant_without_calendar_scope(
    pool: AsyncConnectionPool, queue: JobQueue, emulator: GmailEmulator
) -> None:
    cid = await connect(pool, queue)
    add(emulator, "Kickoff", 10, "ann@acme.com")
    result = await run(pool, queue, emulator, cid, scope=SCOPE)
    assert result["status"] == "no_calendar_access"
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT calendar_error, calendar_cursor FROM crm.connections WHERE id = %s", (cid,)
        )).fetchone()  # fmt: skip
    assert row == (sync_calendar.NO_SCOPE, None)
    assert await meetings(pool) == {}
