"""Recomputing a user's follow-ups from cadences, relationships going cold, open loops in
the mail and meetings no mail followed, and claiming a reminder when it fires. Time comes in as
`now`; follow-ups are due as of the time the user's scores are (`as_of`: for an archive, its
last day). Scheduling the reminder jobs is the caller's (jobs/)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from fluffymail.crm.followups import loops
from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.followups.models import (
    Fired,
    Followup,
    Reason,
    Recomputed,
    Reminder,
    Reopened,
    Wanted,
)
from fluffymail.crm.relationships import archive

LOOP_WINDOW = timedelta(days=60)  # open loops older than this are history, not to-dos
LOOP_SCAN_LIMIT = 5000  # messages read for open loops per recompute, newest first
DETAIL_MAX = 300
MET_AFTER = timedelta(weeks=3)  # "met 3 weeks ago, no mail since" is due this long after
MET_WINDOW = timedelta(weeks=8)  # a meeting longer ago than this is history, not a to-do
Conn = followups_repo.Conn


async def as_of(conn: Conn, user_id: int, now: datetime) -> archive.ScoringTime:
    """The time the user's follow-ups are due as of: the one their relationship scores are
    computed as of (`archive.scoring_time`), so `now`, or for a mailbox whose mail ended long
    ago the day after its last mail (`archive_ends` set): an archive's follow-ups read as they
    would have on its last day, not all overdue by years."""
    return await archive.scoring_time(conn, user_id, now)


async def recompute(conn: Conn, user_id: int, now: datetime) -> Recomputed:
    """Bring the user's follow-ups up to date as of `as_of`, in the caller's transaction."""
    workspace_id = await followups_repo.workspace_of(conn, user_id)
    when = await as_of(conn, user_id, now)
    wanted = [
        *_from_cadence(await _due_cadence(conn, user_id, when)),
        *_from_cold(await followups_repo.due_cold(conn, user_id), when.at),
        *await open_loops(conn, user_id, when.at),
        *await met_no_mail(conn, user_id, when.at),
    ]
    woken = await followups_repo.wake(conn, user_id)
    changed = await followups_repo.save_wanted(conn, user_id, workspace_id, wanted)
    closed = await followups_repo.resolve_others(conn, user_id, wanted)
    return Recomputed(
        reschedule=(*woken, *changed),
        closed=tuple(closed),
        wanted=len(wanted),
        open=await followups_repo.count_open(conn, user_id),
    )


async def refresh_cadence(
    conn: Conn, user_id: int, contact_ids: Sequence[int], now: datetime
) -> Recomputed:
    """Recompute only the cadence follow-ups of those contacts (after their cadence changed,
    or one was done or dismissed: its next round), so the page shows it at once."""
    workspace_id = await followups_repo.workspace_of(conn, user_id)
    when = await as_of(conn, user_id, now)
    wanted = _from_cadence(await _due_cadence(conn, user_id, when, contact_ids))
    changed = await followups_repo.save_wanted(conn, user_id, workspace_id, wanted)
    closed = await followups_repo.resolve_cadence(conn, user_id, contact_ids)
    return Recomputed(
        reschedule=tuple(changed),
        closed=tuple(closed),
        wanted=len(wanted),
        open=await followups_repo.count_open(conn, user_id),
    )


async def reopen(conn: Conn, user_id: int, followup: Followup, now: datetime) -> Reopened | None:
    """Open a follow-up marked done or dismissed, or snoozed, again as of `as_of`: due when it
    was due (None when it was none of those). A keep-in-touch round becomes the contact's
    current round again: the round opened in its place makes way, and it is due as the mail
    and the rounds still closed say, as `refresh_cadence` counts them (the moment it was
    marked no longer counts, so its next round is not pushed back by a mistaken click)."""
    at = (await as_of(conn, user_id, now)).at
    cadence = followup.reason is Reason.CADENCE
    displaced = (
        await followups_repo.displace_round(conn, user_id, followup.contact_id, followup.id, now=at)
        if cadence
        else []
    )
    if not await followups_repo.reopen(conn, user_id, followup.id, now=at):
        return None
    if cadence:  # what closed by itself meanwhile (its cadence cleared) is cancelled too
        displaced += (await refresh_cadence(conn, user_id, [followup.contact_id], now)).closed
    remind_on = await followups_repo.reminder_due(conn, followup.id)
    reminder = Reminder(followup_id=followup.id, at=remind_on) if remind_on else None
    return Reopened(reminder=reminder, displaced=tuple(displaced))


async def _due_cadence(
    conn: Conn,
    user_id: int,
    when: archive.ScoringTime,
    contact_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Cadence follow-ups due; in an archive, one never in touch is due by its last day."""
    archive_at = when.at if when.archive_ends is not None else None
    return await followups_repo.due_cadence(conn, user_id, contact_ids, archive_at=archive_at)


def _from_cadence(rows: Iterable[dict[str, Any]]) -> list[Wanted]:
    return [
        Wanted(
            contact_id=r["contact_id"],
            reason=Reason.CADENCE,
            key="cadence",
            message_id=r["message_id"],
            detail=f"Keep in touch every {r['days']} days",
            due_on=r["due_on"],
        )
        for r in rows
    ]


def _from_cold(rows: Iterable[dict[str, Any]], now: datetime) -> list[Wanted]:
    return [
        Wanted(
            contact_id=r["contact_id"],
            reason=Reason.COLD,
            key=f"cold:{r['message_id'] or 0}",
            message_id=r["message_id"],
            detail=r["detail"] or "Going cold",
            due_on=now,
        )
        for r in rows
    ]


async def met_no_mail(conn: Conn, user_id: int, now: datetime) -> list[Wanted]:
    """A follow-up per person met MET_AFTER ago (within MET_WINDOW) with no mail since the
    last meeting; due MET_AFTER after it ended. Mail either way resolves it."""
    rows = await followups_repo.due_met(
        conn, user_id, now=now, due_before=now - MET_AFTER, since=now - MET_WINDOW
    )
    return [
        Wanted(
            contact_id=r["contact_id"],
            reason=Reason.MET,
            key=f"met:{r['meeting_id']}",
            message_id=None,
            detail=_met_detail(r["title"], r["ends_on"], now),
            due_on=r["ends_on"] + MET_AFTER,
        )
        for r in rows
    ]


def _met_detail(title: str, ended: datetime, now: datetime) -> str:
    weeks = max(1, (now - ended).days // 7)
    what = f" ({title})" if title else ""
    return f"Met {weeks} week{'s' * (weeks != 1)} ago{what}, no mail since"[:DETAIL_MAX]


async def open_loops(conn: Conn, user_id: int, now: datetime) -> list[Wanted]:
    """The latest unanswered question from each contact and the promise in the user's last
    message to each, within LOOP_WINDOW."""
    rows = await followups_repo.loop_messages(
        conn, user_id, since=now - LOOP_WINDOW, now=now, limit=LOOP_SCAN_LIMIT
    )
    found: dict[tuple[int, Reason], Wanted] = {}
    for row in rows:  # newest first: the first hit per contact and reason wins
        reason = Reason.QUESTION if row["direction"] == "received" else Reason.PROMISE
        if (row["contact_id"], reason) in found:
            continue
        if loop := _loop(row, reason):
            found[(row["contact_id"], reason)] = loop
    return list(found.values())


def _loop(row: dict[str, Any], reason: Reason) -> Wanted | None:
    detect = loops.question_in if reason is Reason.QUESTION else loops.promise_in
    sentence = detect(row["body_text"] or "")
    if sentence is None:
        return None
    wait = loops.QUESTION_DUE if reason is Reason.QUESTION else loops.PROMISE_DUE
    return Wanted(
        contact_id=row["contact_id"],
        reason=reason,
        key=f"{reason.value}:{row['message_id']}",
        message_id=row["message_id"],
        detail=sentence[:DETAIL_MAX],
        due_on=row["date"] + wait,
    )


async def fire_reminder(conn: Conn, followup_id: int, now: datetime) -> Fired | None:
    """Claim the follow-up's reminder and record its `followup.due` event, once per reminder
    time; None when it is not due as of `as_of` (closed, snoozed on, fired already, or in an
    archive due after its last day: coming up there, as the Follow-ups page shows it)."""
    user_id = await followups_repo.reminder_owner(conn, followup_id)
    if user_id is None:
        return None
    at = (await as_of(conn, user_id, now)).at
    fired = await followups_repo.claim_reminder(conn, followup_id, at)
    if fired is None:
        return None
    await followups_repo.record_event(
        conn,
        workspace_id=fired.workspace_id,
        user_id=fired.user_id,
        kind="followup.due",
        dedup_key=f"{fired.followup_id}@{fired.remind_on.isoformat()}",
        payload=fired.payload(),
    )
    return fired


async def record_digest(conn: Conn, user_id: int, now: datetime) -> int | None:
    """The day's `followups.due` event for a user who asked for the digest and has follow-ups
    due as of `as_of` (once a day); its id, or None."""
    if not await followups_repo.digest_enabled(conn, user_id):
        return None
    at = (await as_of(conn, user_id, now)).at
    due = await followups_repo.list_followups(conn, user_id, until=at, limit=50)
    if not due:
        return None
    payload = {
        "date": now.date().isoformat(),
        "due": await followups_repo.count_due(conn, user_id, at),
        "followups": [
            {
                "id": f.id,
                "contact_id": f.contact_id,
                "contact": f.contact_name,
                "reason": f.reason.value,
                "detail": f.detail,
                "message_id": f.message_id,
            }
            for f in due
        ],
    }
    return await followups_repo.record_event(
        conn,
        workspace_id=await followups_repo.workspace_of(conn, user_id),
        user_id=user_id,
        kind="followups.due",
        dedup_key=f"{user_id}@{now.date().isoformat()}",
        payload=payload,
    )
