"""Meetings from an .ics file (written here): attendees joined to contacts by address under the
creation policy, recurrences expanded, re-import idempotent, cancellations removed; meetings
raise the relationship score and show in the figures; the timeline lists them; a meeting with
no mail since is a follow-up until mail arrives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.followups import service as followups
from fluffymail.queue import JobQueue
from fluffymail.web.services import meetings as meetings_service
from fluffymail.web.services import notes as notes_service

from .conftest import NOW, USER, Analyze, Load, Mail, Rows, exchange


def stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y%m%dT%H%M%SZ")


def vevent(uid: str, title: str, days_ago: float, *people: str, **extra: str) -> str:
    organizer = extra.pop("organizer", USER)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTART:{stamp(days_ago)}",
        f"DTEND:{stamp(days_ago - 1 / 24)}",
        f"SUMMARY:{title}",
        f"ORGANIZER;CN=Organizer:mailto:{organizer}",
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{USER}",
        *[f"ATTENDEE;CN={p.split('@')[0].title()};PARTSTAT=ACCEPTED:mailto:{p}" for p in people],
        *[f"{k.replace('_', '-').upper()}:{v}" for k, v in extra.items()],
        "END:VEVENT",
    ]
    return "\n".join(lines)


def calendar(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//fluffymail tests//EN\n"
            + "\n".join(events) + "\nEND:VCALENDAR\n").encode()  # fmt: skip


CROWD = [f"p{i}@crowd.example" for i in range(25)]
SAMPLE = calendar(
    vevent("kickoff@t", "Kickoff", 10, "ann@acme.com"),
    vevent("weekly@t", "Weekly", 12, "dan@delta.io", rrule="FREQ=WEEKLY;COUNT=2"),  # 12 and 5
    vevent("their@t", "Their demo", 8, "eve@else.io", organizer="eve@else.io"),
    vevent("allhands@t", "All hands", 9, *CROWD),
)


async def figures(rows: Rows, address: str) -> tuple[object, ...]:
    found = await rows.all(
        "SELECT f.messages, f.meetings, f.last_meeting_at FROM crm.contact_figures f"
        " JOIN crm.contact_addresses a ON a.contact_id = f.contact_id WHERE a.address = %s",
        address,
    )
    return found[0]


async def test_meetings__join_score_figures_reimport_and_cancel(
    load: Load, analyze: Analyze, rows: Rows, pool: AsyncConnectionPool, queue: JobQueue
) -> None:
    user_id = await load(exchange("ann@acme.com", "Plan", 30, replies=1))
    await analyze(user_id)
    before = (await rows.scores(user_id))["ann@acme.com"]

    done = await meetings_service.import_ics(
        pool, queue, user_id, SAMPLE, policy=Policy.SENT, now=NOW
    )
    assert (done.stored, done.skipped) == (5, 0)  # kickoff, 2 weekly, their demo, all hands
    assert done.contacts_created == 1  # dan (ann is one already; no crowd, no eve)
    await analyze(user_id)
    scores = await rows.scores(user_id)
    assert scores["ann@acme.com"] > before  # a meeting adds to the mail
    assert scores["dan@delta.io"] > 0  # met twice, never written: still a relationship
    assert "eve@else.io" not in scores  # her invitation makes no contact under `sent`
    assert not any(a in scores for a in CROWD)  # too many people to count
    assert await figures(rows, "dan@delta.io") == (0, 2, NOW - timedelta(days=5))
    assert (await figures(rows, "ann@acme.com"))[:2] == (2, 1)

    again = await meetings_service.import_ics(
        pool, queue, user_id, SAMPLE, policy=Policy.SENT, now=NOW
    )
    assert again.stored == 5 and await rows.one("SELECT count(*) FROM crm.meetings") == 5

    cancelled = calendar(vevent("weekly@t", "Weekly", 12, "dan@delta.io",
                                rrule="FREQ=WEEKLY;COUNT=2", status="CANCELLED"))  # fmt: skip
    gone = await meetings_service.import_ics(
        pool, queue, user_id, cancelled, policy=Policy.SENT, now=NOW
    )
    assert gone.removed == 2
    await analyze(user_id)
    scores = await rows.scores(user_id)
    assert "dan@delta.io" not in scores  # no mail and no meeting left
    assert scores["ann@acme.com"] > before


async def test_meetings__timeline_and_met_no_mail_since(
    load: Load, analyze: Analyze, rows: Rows, pool: AsyncConnectionPool, queue: JobQueue
) -> None:
    user_id = await load(exchange("ann@acme.com", "Plan", 60, replies=1))
    ics = calendar(vevent("coffee@t", "Coffee", 25, "ann@acme.com"))
    await meetings_service.import_ics(pool, queue, user_id, ics, policy=Policy.SENT, now=NOW)
    await analyze(user_id)
    ann = await rows.contact_id("ann@acme.com")

    page = await notes_service.contact_timeline(pool, user_id, ann, limit=50, offset=0)
    kinds = [("meeting" if e.meeting else "message") for e in page.entries]
    assert kinds == ["meeting", "message", "message"]  # newest first, between the mail
    assert page.entries[0].meeting is not None and page.entries[0].meeting.title == "Coffee"

    async def met() -> list[tuple[str, str, str]]:
        async with pool.connection() as conn, conn.transaction():
            await followups.recompute(conn, user_id, NOW)
        return await rows.all(
            "SELECT reason, state, detail FROM crm.followups WHERE reason = 'met'"
        )

    assert await met() == [("met", "open", "Met 3 weeks ago (Coffee), no mail since")]
    await load([Mail(sender=USER, to="ann@acme.com", subject="Great to meet", days_ago=2)])
    await analyze(user_id)
    assert [(r, s) for r, s, _ in await met()] == [("met", "resolved")]


def test_read_ics__overrides_exdates_rooms_and_junk() -> None:
    from fluffymail.integrations.calendar.ics import IcsError, read_ics

    data = calendar(
        vevent("w@t", "Weekly", 21, "ann@acme.com", rrule="FREQ=WEEKLY;COUNT=3", exdate=stamp(14)),
        vevent("w@t", "Weekly (moved)", 6.5, "ann@acme.com", recurrence_id=stamp(7)),
        vevent("r@t", "Room", 3, "ann@acme.com").replace(
            "END:VEVENT", "ATTENDEE;CUTYPE=ROOM:mailto:room@acme.com\nEND:VEVENT"
        ),
    )
    found = read_ics(data, now=NOW)
    by_id = {m.event_id: m for m in found.meetings}  # the later entry wins, as when stored
    assert sorted(m.title for m in by_id.values()) == ["Room", "Weekly", "Weekly (moved)"]
    assert all("room@acme.com" not in [a.address for a in m.attendees] for m in found.meetings)
    with pytest.raises(IcsError):
        read_ics(b"not a calendar", now=NOW)
