"""Storing meetings: the user's own addresses set apart, attendees written, contacts made
where the creation policy allows, changed people marked for rescoring. Idempotent: a meeting
is keyed by its calendar and event id. Runs in the caller's transaction; no HTTP, no queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from fluffymail.crm.calendar import repo
from fluffymail.crm.calendar.models import (
    MAX_ATTENDEES,
    RESPONSES,
    AttendeeIn,
    MeetingIn,
    StoreResult,
)
from fluffymail.crm.contacts import addresses, extraction
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts.extraction import Policy

__all__ = ["ICS_CALENDAR", "google_calendar", "remove_events", "store_meetings", "sweep"]

ICS_CALENDAR = "ics"
Conn = repo.Conn


def google_calendar(connection_id: int) -> str:
    """The `calendar` key of a Gmail connection's primary calendar."""
    return f"google:{connection_id}"


async def store_meetings(
    conn: Conn,
    *,
    user_id: int,
    calendar: str,
    connection_id: int | None,
    meetings: Iterable[MeetingIn],
    policy: Policy,
    now: datetime,
) -> StoreResult:
    """Write `meetings` (updating those already stored); see the module docstring."""
    result = StoreResult()
    me = await repo.self_addresses(conn, user_id)
    unique = {m.event_id: m for m in meetings}  # an event listed twice: the later wins
    kept, alone = {}, []
    for event_id, meeting in unique.items():
        others = _others(meeting, me)
        if others:
            kept[event_id] = (meeting, others)
        else:
            alone.append(event_id)
    result.skipped = len(alone)
    result.removed = await repo.delete_meetings(conn, user_id, calendar, alone)
    rows = [_meeting_row(m, others, me) for m, others in kept.values()]
    ids = await repo.upsert_meetings(
        conn,
        user_id=user_id,
        connection_id=connection_id,
        calendar=calendar,
        rows=sorted(rows, key=lambda r: r["event_id"]),
        now=now,
    )
    attendees = [
        _attendee_row(ids[event_id], a) for event_id, (_, others) in kept.items() for a in others
    ]
    changed = await repo.replace_attendees(conn, user_id, sorted(ids.values()), attendees)
    await repo.mark_rescore(conn, user_id, sorted(changed))
    result.stored = len(ids)
    await _make_contacts(conn, user_id, me, kept.values(), policy, now, result)
    return result


async def remove_events(conn: Conn, user_id: int, calendar: str, event_ids: Sequence[str]) -> int:
    """Delete cancelled or vanished events; how many meetings went."""
    return await repo.delete_meetings(conn, user_id, calendar, event_ids)


async def sweep(conn: Conn, user_id: int, calendar: str, seen: Iterable[str]) -> int:
    """After a full listing: delete the calendar's meetings it did not list."""
    return await repo.delete_meetings(conn, user_id, calendar, sorted(set(seen)), sweep=True)


def _others(meeting: MeetingIn, me: set[str]) -> list[AttendeeIn]:
    """The attendees who are not the user, each address once, normalised."""
    found: dict[str, AttendeeIn] = {}
    for attendee in meeting.attendees:
        normalized = addresses.normalize_address(attendee.address)
        if normalized is None or attendee.is_self or normalized.email in me:
            continue
        response = attendee.response if attendee.response in RESPONSES else "needsAction"
        found.setdefault(
            normalized.email,
            AttendeeIn(
                address=normalized.email,
                name=attendee.name.strip()[:200],
                response=response,
                organizer=attendee.organizer,
            ),
        )
    return list(found.values())


def _self_response(meeting: MeetingIn, me: set[str]) -> str | None:
    for attendee in meeting.attendees:
        normalized = addresses.normalize_address(attendee.address)
        if attendee.is_self or (normalized is not None and normalized.email in me):
            return attendee.response if attendee.response in RESPONSES else "needsAction"
    return "accepted" if _organized_by_user(meeting, me) else None


def _organized_by_user(meeting: MeetingIn, me: set[str]) -> bool:
    if meeting.organizer_is_self:
        return True
    normalized = addresses.normalize_address(meeting.organizer or "")
    return normalized is not None and normalized.email in me


def _meeting_row(meeting: MeetingIn, others: list[AttendeeIn], me: set[str]) -> dict[str, object]:
    organizer = addresses.normalize_address(meeting.organizer or "")
    return {
        "event_id": meeting.event_id,
        "title": meeting.title.strip()[:500],
        "location": meeting.location.strip()[:500],
        "starts_on": meeting.starts_on.isoformat(),
        "ends_on": max(meeting.ends_on, meeting.starts_on).isoformat(),
        "all_day": meeting.all_day,
        "organizer": organizer.email if organizer else None,
        "self_response": _self_response(meeting, me),
        "attendees": len(others),
    }


def _attendee_row(meeting_id: int, attendee: AttendeeIn) -> dict[str, object]:
    return {
        "meeting_id": meeting_id,
        "address": attendee.address,
        "name": attendee.name,
        "response": attendee.response,
        "organizer": attendee.organizer,
    }


def _allowed(
    meeting: MeetingIn, others: list[AttendeeIn], me: set[str], policy: Policy
) -> list[AttendeeIn]:
    """Who this meeting may make a contact of: everyone under `sent_and_received`; under
    `sent` the people the user invited (a meeting the user organised is mail they wrote);
    no one under `none`, from a meeting the user declined, or from one too large to be
    personal (more than MAX_ATTENDEES others)."""
    if policy is Policy.NONE or len(others) > MAX_ATTENDEES:
        return []
    if _self_response(meeting, me) == "declined":
        return []
    if policy is Policy.SENT and not _organized_by_user(meeting, me):
        return []
    return [a for a in others if a.response != "declined"]


async def _make_contacts(
    conn: Conn,
    user_id: int,
    me: set[str],
    kept: Iterable[tuple[MeetingIn, list[AttendeeIn]]],
    policy: Policy,
    now: datetime,
    result: StoreResult,
) -> None:
    names: dict[str, str] = {}
    for meeting, others in kept:
        for attendee in _allowed(meeting, others, me, policy):
            if not names.get(attendee.address):
                names[attendee.address] = attendee.name
    if not names:
        return
    own_domains = extraction.SelfSet.build(next(iter(sorted(me)), ""), me).own_domains
    infos = [extraction.address_info(a, own_domains) for a in sorted(names)]
    wanted = {i.company.domain: i.company.name for i in infos if i.company is not None}
    company_ids = await contacts_repo.ensure_companies(conn, user_id, wanted, now)
    rows = [
        {
            "address": i.address,
            "company_id": company_ids.get(i.company.domain) if i.company else None,
            "is_internal": i.internal,
            "defect": None,
        }
        for i in infos
    ]
    found, _ = await contacts_repo.ensure_contacts(conn, user_id, rows, now)
    shown = await repo.show_contacts(conn, {found[a]: names[a] for a in found}, now)
    result.contacts_created = len(shown)
