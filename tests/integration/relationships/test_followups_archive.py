"""Follow-ups of a mailbox whose mail ended long ago are due as of its last day, as its scores
are (archive.scoring_time): the same follow-ups, due and overdue alike, as a live mailbox's."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import FrozenClock
from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.relationships import archive
from fluffymail.jobs import followup_reminder, recompute_followups
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import Job

from .conftest import NOW, USER, Analyze, Load, Mail, Rows, exchange

LINUS = "linus@kernel.example"
ADA = "ada@engines.example"
GRACE = "grace@navy.example"
CAROL = "carol@launch.example"
QUESTION = "Could you send me the signed contract before Friday?"
PROMISE = "I'll send you the revised budget on Monday."
SOON = "Can you review the launch plan by Thursday?"
DAY = timedelta(days=1)


def _mailbox() -> list[Mail]:
    """Linus asked a question 6 days before NOW, the user promised Ada something 8 days
    before, Grace was last written 50 days before, and Carol asked one the day before NOW:
    the mailbox's last mail, so its last day is NOW."""
    return [
        *exchange(LINUS, "Roadmap", 40),
        Mail(sender=LINUS, to=USER, subject="Contract", days_ago=6, body=QUESTION),
        *exchange(ADA, "Budget", 30),
        Mail(sender=USER, to=ADA, subject="Re: Budget", days_ago=8, body=f"Sure. {PROMISE}"),
        *exchange(GRACE, "Hiring", 50),
        *exchange(CAROL, "Launch", 20),
        Mail(sender=CAROL, to=USER, subject="Launch plan", days_ago=1, body=SOON),
    ]


async def _followups(rows: Rows) -> dict[tuple[str, str], tuple[str, datetime]]:
    found = await rows.all(
        "SELECT f.reason, c.primary_address, f.detail, f.remind_on FROM crm.followups f"
        " JOIN crm.contacts c ON c.id = f.contact_id WHERE f.state = 'open'"
    )
    return {(reason, who): (detail, remind_on) for reason, who, detail, remind_on in found}


@pytest.mark.parametrize("years", [0, 22], ids=["live", "archive"])
async def test_followups__an_archive_reads_as_on_its_last_day(
    load: Load,
    analyze: Analyze,
    rows: Rows,
    pool: AsyncConnectionPool,
    deps: JobDeps,
    years: int,
) -> None:
    user_id = await load(_mailbox())
    clock = FrozenClock(NOW + timedelta(days=365 * years))  # 22 years on: an archive
    await analyze(user_id, now=clock.now())
    async with pool.connection() as conn:
        grace = await rows.contact_id(GRACE)
        await followups_repo.set_cadences(conn, user_id, [grace], 7)
        await followups_repo.set_digest(conn, user_id, True)
        as_of = await archive.scoring_time(conn, user_id, clock.now())
    assert as_of.at == NOW  # the day after its last mail, or (live) now
    assert (as_of.archive_ends is not None) == (years > 0)

    output = await recompute_followups.recompute_user(deps, clock, user_id)

    last_grace = NOW - timedelta(days=50) + timedelta(days=0.1)  # Grace's reply
    assert await _followups(rows) == {
        ("question", LINUS): (QUESTION, NOW - 6 * DAY + 2 * DAY),  # overdue by 4 days
        ("promise", ADA): (PROMISE, NOW - 8 * DAY + 3 * DAY),  # overdue by 5 days
        ("cadence", GRACE): ("Keep in touch every 7 days", last_grace + 7 * DAY),
        ("question", CAROL): (SOON, NOW + DAY),  # coming up
    }
    assert output["open"] == 4 and output["digest"] is True
    (payload,) = await rows.all(
        "SELECT payload FROM crm.outgoing_events WHERE kind = 'followups.due'"
    )
    due = sorted((f["reason"], f["detail"]) for f in payload[0]["followups"])
    assert payload[0]["due"] == 3  # Carol's question is not due yet, as of the last day
    assert due == [("cadence", "Keep in touch every 7 days"), ("promise", PROMISE),
                   ("question", QUESTION)]  # fmt: skip

    # The reminders fire for what is due as of that day; Carol's waits, as the board shows it.
    handle = followup_reminder.make_handler(deps, clock)
    for (followup_id,) in await rows.all("SELECT id FROM crm.followups ORDER BY id"):
        await handle(Job(id=0, name=followup_reminder.QUEUE, data={"followup_id": followup_id}))
    fired = await rows.all(
        "SELECT payload->>'reason', payload->>'detail' FROM crm.outgoing_events"
        " WHERE kind = 'followup.due'"
    )
    assert sorted(fired) == due
