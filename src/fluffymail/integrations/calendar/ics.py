"""iCalendar (.ics) files read with the `icalendar` package: each VEVENT as meetings.

Recurring events are expanded (python-dateutil's rrule, which icalendar brings) within a
bounded window: `PAST` before `now` to `FUTURE` after it, at most `MAX_OCCURRENCES` per event,
EXDATEs left out and RECURRENCE-ID overrides replacing their occurrence. Each occurrence is its
own meeting keyed `UID#start` (UTC), so re-importing the file updates, never duplicates. A pure
adapter: bytes in, meetings out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
from dateutil import rrule

from fluffymail.crm.calendar.models import AttendeeIn, MeetingIn

__all__ = ["FUTURE", "MAX_OCCURRENCES", "PAST", "IcsError", "IcsEvents", "read_ics"]

PAST = timedelta(days=730)
FUTURE = timedelta(days=90)
MAX_OCCURRENCES = 500
_PARTSTAT = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"}
_NOT_PEOPLE = frozenset({"ROOM", "RESOURCE"})


class IcsError(ValueError):
    """The file is not an iCalendar file (the reason says why)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IcsEvents:
    """The meetings in a file, and the event ids it marks cancelled (to remove if stored)."""

    meetings: tuple[MeetingIn, ...]
    cancelled: tuple[str, ...]


def read_ics(data: bytes, *, now: datetime) -> IcsEvents:
    """Every VEVENT in `data` as meetings (recurrences expanded, see the module docstring).

    Raises:
        IcsError: not an iCalendar file.
    """
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, IndexError, KeyError) as exc:
        raise IcsError(f"not an iCalendar file: {exc}") from exc
    events = [e for c in calendars for e in c.walk("VEVENT")]
    if not calendars or not any(c.name == "VCALENDAR" for c in calendars):
        raise IcsError("not an iCalendar file: no VCALENDAR")
    lo, hi = now - PAST, now + FUTURE
    masters = [e for e in events if e.get("RECURRENCE-ID") is None]
    overrides = [e for e in events if e.get("RECURRENCE-ID") is not None]
    meetings: list[MeetingIn] = []
    cancelled: list[str] = []
    for event in [*masters, *overrides]:  # overrides last: they replace their occurrence
        try:
            found = list(_meetings(event, lo, hi))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # one malformed event does not spoil the file
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            cancelled += [m.event_id for m in found]
        else:
            meetings += found
    return IcsEvents(meetings=tuple(meetings), cancelled=tuple(cancelled))


def _meetings(event: Any, lo: datetime, hi: datetime) -> Iterable[MeetingIn]:
    start_raw = event.decoded("DTSTART")
    start, all_day = _utc(start_raw)
    length = _length(event, start_raw, all_day)
    uid = str(event.get("UID") or _made_uid(event, start))
    recurrence = event.get("RECURRENCE-ID")
    if recurrence is not None:
        original, _ = _utc(event.decoded("RECURRENCE-ID"))
        yield _meeting(event, f"{uid}#{_key(original)}", start, start + length, all_day)
        return
    if event.get("RRULE") is None:
        yield _meeting(event, uid, start, start + length, all_day)
        return
    for at in _occurrences(event, start_raw, lo, hi):
        begin, _ = _utc(at)
        yield _meeting(event, f"{uid}#{_key(begin)}", begin, begin + length, all_day)


def _occurrences(event: Any, start_raw: date | datetime, lo: datetime, hi: datetime) -> list[Any]:
    """The recurrence's starts within [lo, hi] (as their own type), EXDATEs removed."""
    naive = not isinstance(start_raw, datetime) or start_raw.tzinfo is None
    first = start_raw if isinstance(start_raw, datetime) else datetime.combine(start_raw, time())
    rule_text = event["RRULE"].to_ical().decode()
    if naive:
        rule_text = rule_text.replace("Z;", ";").rstrip("Z") if "UNTIL" in rule_text else rule_text
    rule = rrule.rrulestr(rule_text, dtstart=first, forceset=True)
    for exdate in _exdates(event):
        rule.exdate(exdate.replace(tzinfo=None) if naive else exdate)
    window = (lo.replace(tzinfo=None), hi.replace(tzinfo=None)) if naive else (lo, hi)
    found = rule.between(*window, inc=True)[:MAX_OCCURRENCES]
    return [f.date() for f in found] if not isinstance(start_raw, datetime) else found


def _exdates(event: Any) -> list[datetime]:
    values = event.get("EXDATE")
    if values is None:
        return []
    out = []
    for item in values if isinstance(values, list) else [values]:
        for d in item.dts:
            at = d.dt
            out.append(at if isinstance(at, datetime) else datetime.combine(at, time()))
    return out


def _utc(value: date | datetime) -> tuple[datetime, bool]:
    """A start as an aware UTC datetime (floating time is taken as UTC); all-day or not."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC), False
    return datetime.combine(value, time(), UTC), True


def _length(event: Any, start_raw: date | datetime, all_day: bool) -> timedelta:
    if event.get("DTEND") is not None:
        end, _ = _utc(event.decoded("DTEND"))
        begin, _ = _utc(start_raw)
        return max(end - begin, timedelta())
    if event.get("DURATION") is not None:
        return max(event.decoded("DURATION"), timedelta())
    return timedelta(days=1) if all_day else timedelta()


def _meeting(event: Any, event_id: str, start: datetime, end: datetime, all_day: bool) -> MeetingIn:
    organizer = event.get("ORGANIZER")
    attendees = [_attendee(a, organizer) for a in _list(event.get("ATTENDEE"))]
    people = [a for a in attendees if a is not None]
    if organizer is not None and not any(a.organizer for a in people):
        people.append(
            AttendeeIn(address=_address(organizer), name=_param(organizer, "CN"),
                       response="accepted", organizer=True)
        )  # fmt: skip
    return MeetingIn(
        event_id=event_id,
        title=str(event.get("SUMMARY", "")),
        location=str(event.get("LOCATION", "")),
        starts_on=start,
        ends_on=end,
        all_day=all_day,
        organizer=_address(organizer) if organizer is not None else None,
        attendees=tuple(people),
    )


def _attendee(value: Any, organizer: Any) -> AttendeeIn | None:
    if _param(value, "CUTYPE").upper() in _NOT_PEOPLE:
        return None
    address = _address(value)
    return AttendeeIn(
        address=address,
        name=_param(value, "CN"),
        response=_PARTSTAT.get(_param(value, "PARTSTAT").upper(), "needsAction"),
        organizer=organizer is not None and _address(organizer) == address,
    )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _address(value: Any) -> str:
    text = str(value).strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def _param(value: Any, name: str) -> str:
    params = getattr(value, "params", None) or {}
    return str(params.get(name, ""))


def _key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _made_uid(event: Any, start: datetime) -> str:
    """A stable id for an event without UID (invalid, but seen): its start and summary."""
    text = f"{_key(start)}|{event.get('SUMMARY', '')}"
    return "nouid-" + hashlib.sha256(text.encode()).hexdigest()[:24]
