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
from fluffymail.crm.followups.models import Followup, Reason, Reminder, State
from fluffymail.crm.relationships import archive
from fluffymail.errors import FluffyMailError
from fluffymail.jobs import followup_reminder, recompute_followups
from fluffymail.queue import JobQueue
from fluffymail.web.services import activity, live_contacts
from fluffymail.web.services.contacts import db_now
from fluffymail.web.services.messages import Conn

Action = Literal["done", "dismiss", "snooze"]
CADENCE_MAX = 3650
BULK_MAX = 1000
UPCOMING = timedelta(days=14)
BOARD_LIMIT = 50  # due follow-ups shown (oldest first); the total is counted
SIDE_LIMIT = 20  # coming up, and waiting for a reply
CLOSED_LIMIT = 5  # a contact's follow-ups done or dismissed lately, offered to reopen
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


async def closed_for_contact(
    pool: AsyncConnectionPool, user_id: int, contact_id: int, *, limit: int = CLOSED_LIMIT
) -> list[Followup]:
    """The contact's follow-ups marked done or dismissed lately, to reopen one."""
    async with pool.connection() as conn:
        return await followups_repo.closed_followups(conn, user_id, contact_id, limit=limit)


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
    `ContactNotFound` and no change when any is not the user's, `SubjectMerged` when any was
    merged into another (naming the contact it joined). The contacts changed."""
    check_cadence(days)
    wanted = sorted(set(contact_ids))
    if not wanted:
        raise FollowupRefused("choose the contacts first")
    if len(wanted) > BULK_MAX:
        raise FollowupRefused(f"at most {BULK_MAX} contacts at once")
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        await live_contacts.require_live_contacts(conn, user_id, wanted)
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
    archive its last day, so a snooze and a cadence's next round count from there. Done on a
    follow-up done (dismiss on one dismissed) changes nothing and answers it as it is; any
    other change of a closed one is `FollowupClosed` (reopen it first)."""
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        before = await _followup(conn, user_id, followup_id)
        now = await db_now(conn)
        when = await followups_service.as_of(conn, user_id, now)
        remind_on = _snooze_end(action, until, until_reply, when)
        if _already(before, action):
            return before
        moved = await followups_repo.transition(
            conn,
            user_id,
            followup_id,
            state=ACTIONS[action],
            remind_on=remind_on,
            until_reply=action == "snooze" and until_reply,
            now=when.at,
        )
        if not moved:  # closed, or changed by another request since it was read
            current = await _followup(conn, user_id, followup_id)
            if _already(current, action):
                return current
            raise _closed(current)
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


def _already(found: Followup, action: Action) -> bool:
    """Whether the follow-up is already as `action` leaves it (done, dismissed): a repeat."""
    return action != "snooze" and found.state.value == ACTIONS[action]


def _closed(found: Followup) -> FollowupClosed:
    if found.state is State.RESOLVED:
        return FollowupClosed(
            f"follow-up {found.id} closed by itself (answered, its cadence cleared or the"
            " relationship warmed up); it comes back if it is due again"
        )
    return FollowupClosed(f"follow-up {found.id} is already {found.state.value}; reopen it first")


async def reopen(
    pool: AsyncConnectionPool, queue: JobQueue | None, user_id: int, followup_id: int
) -> Followup:
    """Open a follow-up marked done or dismissed (or snoozed) again, due when it was due;
    logged on the contact, its reminder scheduled. A keep-in-touch round is the contact's
    current round again, due as if it had not been marked (`followups_service.reopen`). An
    open one is answered as it is; one closed by itself, or a round whose contact has no
    cadence any more, is `FollowupClosed`; one whose contact was merged away, `SubjectMerged`."""
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        if not await followups_repo.lock_followup(conn, user_id, followup_id):
            raise FollowupNotFound(f"no follow-up {followup_id}")
        before = await _followup(conn, user_id, followup_id)
        if before.state is State.OPEN:
            return before
        await _check_reopen(conn, user_id, before)
        reopened = await followups_service.reopen(conn, user_id, before, await db_now(conn))
        if reopened is None:  # locked and checked above: cannot happen
            raise _closed(before)
        await activity.log(
            conn,
            user_id,
            ("contact", before.contact_id),
            "followup.reopened",
            followup_id=followup_id,
            reason=before.reason.value,
            was=before.state.value,
        )
        reminders = [reopened.reminder] if reopened.reminder else []
        await _schedule(queue, conn, reminders, reopened.displaced)
        return await _followup(conn, user_id, followup_id)


async def _check_reopen(conn: Conn, user_id: int, found: Followup) -> None:
    if found.state is State.RESOLVED:
        raise _closed(found)
    await live_contacts.require_live_contacts(conn, user_id, [found.contact_id])
    if found.reason is Reason.CADENCE and (
        await followups_repo.cadence_of(conn, user_id, found.contact_id) is None
    ):
        raise FollowupClosed(
            f"{found.contact_name} has no keep-in-touch cadence any more: set one and its"
            f" next round comes (follow-up {found.id} stays {found.state.value})"
        )


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
