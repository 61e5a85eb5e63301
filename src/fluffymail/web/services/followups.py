"""Follow-ups as the web app shows and changes them: the Follow-ups page and digest, a
contact's cadence (one or many at once), and done / snooze / dismiss. Each change is logged in
the activity log of the contact and (re)schedules or cancels the reminder job, in the change's
own transaction.

Every query carries the caller's user id: another user's follow-up or contact looks exactly
like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.followups import repo as followups_repo
from fluffymail.crm.followups import service as followups_service
from fluffymail.crm.followups.models import Followup, Reminder
from fluffymail.crm.relationships import archive
from fluffymail.crm.tags import repo as tags_repo
from fluffymail.errors import FluffyMailError
from fluffymail.jobs import followup_reminder, recompute_followups
from fluffymail.queue import JobQueue
from fluffymail.web.services import activity
from fluffymail.web.services.contacts import ContactNotFound, db_now
from fluffymail.web.services.messages import Conn

Action = Literal["done", "dismiss", "snooze"]
CADENCE_MAX = 3650
BULK_MAX = 1000
UPCOMING = timedelta(days=14)
BOARD_LIMIT = 50  # due follow-ups shown (oldest first); the total is counted
SIDE_LIMIT = 20  # coming up, and waiting for a reply
SNOOZE_MAX = timedelta(days=366 * 2)
ACTIONS: dict[str, str] = {"done": "done", "dismiss": "dismissed", "snooze": "snoozed"}


class FollowupNotFound(FluffyMailError):
    """No such follow-up."""


class FollowupRefused(FluffyMailError):
    """The follow-up cannot be changed that way."""


class FollowupClosed(FluffyMailError):
    """The follow-up is already closed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Board:
    """The Follow-ups page: due now (overdue first), coming up, later (a snooze to a date past
    the next 14 days, a cadence due after them), waiting for a reply. `now` is the time they
    are due as of: the scores' (for an archive, the day after its last mail, `archive_ends`)."""

    now: datetime
    archive_ends: datetime | None
    due: list[Followup]
    due_total: int  # all that are due (the page shows the first BOARD_LIMIT)
    upcoming: list[Followup]
    later: list[Followup]
    waiting: list[Followup]
    digest: bool


def check_cadence(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= CADENCE_MAX:
        raise FollowupRefused(f"a cadence is a whole number of days from 1 to {CADENCE_MAX}")
    return days


async def ensure_queues(queue: JobQueue | None) -> None:
    """Create the reminder and recompute queues with their jobs' options when no worker has."""
    if queue is None:
        return
    known = await queue.get_queues()
    for module in (followup_reminder, recompute_followups):
        if module.QUEUE not in known:
            await queue.create_queue(module.QUEUE, **module.QUEUE_OPTIONS)


async def board(pool: AsyncConnectionPool, user_id: int, *, limit: int = BOARD_LIMIT) -> Board:
    """What is due (the oldest `limit`), the next SIDE_LIMIT coming up in 14 days, the next
    SIDE_LIMIT after those, and the first SIDE_LIMIT waiting for a reply."""
    async with pool.connection() as conn:
        when = await followups_service.as_of(conn, user_id, await db_now(conn))
        now = when.at
        due = await followups_repo.list_followups(conn, user_id, until=now, limit=limit)
        total = len(due) if len(due) < limit else await followups_repo.count_due(conn, user_id, now)
        soon = await followups_repo.list_followups(
            conn, user_id, after=now, until=now + UPCOMING, limit=SIDE_LIMIT
        )
        later = await followups_repo.list_followups(
            conn, user_id, after=now + UPCOMING, until=datetime.max.replace(tzinfo=UTC),
            limit=SIDE_LIMIT,
        )  # fmt: skip
        waiting = await followups_repo.waiting_followups(conn, user_id, limit=SIDE_LIMIT)
        digest = await followups_repo.digest_enabled(conn, user_id)
    return Board(
        now=now,
        archive_ends=when.archive_ends,
        due=due,
        due_total=total,
        upcoming=soon,
        later=later,
        waiting=waiting,
        digest=digest,
    )


async def get(pool: AsyncConnectionPool, user_id: int, followup_id: int) -> Followup:
    async with pool.connection() as conn:
        return await _followup(conn, user_id, followup_id)


async def _followup(conn: Conn, user_id: int, followup_id: int) -> Followup:
    found = await followups_repo.get_followup(conn, user_id, followup_id)
    if found is None:
        raise FollowupNotFound(f"no follow-up {followup_id}")
    return found


async def for_contact(pool: AsyncConnectionPool, user_id: int, contact_id: int) -> list[Followup]:
    """The contact's open and snoozed follow-ups (the caller checked it is the user's)."""
    async with pool.connection() as conn:
        far = await db_now(conn) + SNOOZE_MAX * 10
        found = await followups_repo.list_followups(
            conn, user_id, until=far, contact_id=contact_id, limit=20
        )
        return found + await followups_repo.waiting_followups(
            conn, user_id, contact_id=contact_id, limit=20
        )


async def cadence(pool: AsyncConnectionPool, user_id: int, contact_id: int) -> int | None:
    async with pool.connection() as conn:
        return await followups_repo.cadence_of(conn, user_id, contact_id)


async def set_cadence(
    pool: AsyncConnectionPool,
    queue: JobQueue | None,
    user_id: int,
    contact_ids: Sequence[int],
    days: int | None,
) -> list[int]:
    """Set (or, with None, clear) the cadence of the user's contacts, all or none:
    `ContactNotFound` and no change when any is not the user's. The contacts changed."""
    check_cadence(days)
    wanted = sorted(set(contact_ids))
    if not wanted:
        raise FollowupRefused("choose the contacts first")
    if len(wanted) > BULK_MAX:
        raise FollowupRefused(f"at most {BULK_MAX} contacts at once")
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        await _require_contacts(conn, user_id, wanted)
        if days is None:
            before = await followups_repo.clear_cadences(conn, user_id, wanted)
        else:
            before = await followups_repo.set_cadences(conn, user_id, wanted, days)
        changed = [i for i, old in before.items() if old != days]
        for contact_id in changed:
            await activity.log(
                conn,
                user_id,
                ("contact", contact_id),
                "cadence.changed",
                before=before[contact_id],
                days=days,
            )
        now = await db_now(conn)
        result = await followups_service.refresh_cadence(conn, user_id, wanted, now)
        await _schedule(queue, conn, result.reschedule, result.closed)
    return changed


async def _require_contacts(conn: Conn, user_id: int, contact_ids: list[int]) -> None:
    owned = await tags_repo.owned_contacts(conn, user_id, contact_ids)
    if missing := sorted(set(contact_ids) - set(owned)):
        raise ContactNotFound(f"no contact {', '.join(map(str, missing[:10]))}")


async def _schedule(
    queue: JobQueue | None, conn: Conn, reminders: Sequence[Reminder], closed: Sequence[int]
) -> None:
    if queue is not None:
        await followup_reminder.schedule(queue, reminders, conn=conn)
        await followup_reminder.cancel(queue, closed, conn=conn)


async def act(
    pool: AsyncConnectionPool,
    queue: JobQueue | None,
    user_id: int,
    followup_id: int,
    action: Action,
    *,
    until: datetime | None = None,
    until_reply: bool = False,
) -> Followup:
    """Done, dismiss, or snooze (to `until`, or until they write); logged on the contact. The
    moment it happens is the time the follow-ups are as of (`followups_service.as_of`): in an
    archive its last day, so a snooze and a cadence's next round count from there."""
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        before = await _followup(conn, user_id, followup_id)
        now = await db_now(conn)
        when = await followups_service.as_of(conn, user_id, now)
        remind_on = _snooze_end(action, until, until_reply, when)
        moved = await followups_repo.transition(
            conn,
            user_id,
            followup_id,
            state=ACTIONS[action],
            remind_on=remind_on,
            until_reply=action == "snooze" and until_reply,
            now=when.at,
        )
        if not moved:
            raise FollowupClosed(f"follow-up {followup_id} is already {before.state.value}")
        detail = {"followup_id": followup_id, "reason": before.reason.value}
        if action == "snooze":
            detail["until"] = remind_on.isoformat() if remind_on else "they write"
        await activity.log(
            conn, user_id, ("contact", before.contact_id), f"followup.{ACTIONS[action]}", **detail
        )
        reminders = [Reminder(followup_id=followup_id, at=remind_on)] if remind_on else []
        await _schedule(queue, conn, reminders, [] if remind_on else [followup_id])
        if before.reason.value == "cadence" and action != "snooze":
            result = await followups_service.refresh_cadence(
                conn, user_id, [before.contact_id], now
            )
            await _schedule(queue, conn, result.reschedule, result.closed)
        return await _followup(conn, user_id, followup_id)


def _snooze_end(
    action: Action, until: datetime | None, until_reply: bool, when: archive.ScoringTime
) -> datetime | None:
    if action != "snooze":
        if until is not None or until_reply:
            raise FollowupRefused("only a snooze takes a date or 'until they write'")
        return None
    if until_reply == (until is not None):
        raise FollowupRefused("snooze to a date, or until they write (one of the two)")
    if until is None:
        return None
    if until.tzinfo is None:
        raise FollowupRefused("the snooze date needs a time zone (or give a date)")
    if until <= when.at:
        raise FollowupRefused(_as_of("snooze to a time in the future", when))
    if until > when.at + SNOOZE_MAX:
        raise FollowupRefused(_as_of("snooze for at most two years", when))
    return until


def _as_of(refusal: str, when: archive.ScoringTime) -> str:
    """The refusal, saying for an archive which day its follow-ups are as of."""
    if when.archive_ends is None:
        return refusal
    return f"{refusal} (this archive's follow-ups are as of {when.at:%-d %B %Y})"


async def set_digest(pool: AsyncConnectionPool, user_id: int, on: bool) -> bool:
    async with pool.connection() as conn, conn.transaction():
        await followups_repo.set_digest(conn, user_id, on)
    return on


async def recompute_now(pool: AsyncConnectionPool, queue: JobQueue | None, user_id: int) -> int:
    """Recompute the user's follow-ups (as the nightly job does); how many are open or
    snoozed."""
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        result = await followups_service.recompute(conn, user_id, await db_now(conn))
        await _schedule(queue, conn, result.reschedule, result.closed)
    return result.open
