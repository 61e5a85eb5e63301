"""iCalendar (.ics) files read with the `icalendar` package: each VEVENT as meetings.

Recurring events are expanded (python-dateutil's rrule, which icalendar brings) within a
bounded window: `PAST` before `now` to `FUTURE` after it, at most `MAX_OCCURRENCES` per event
and `MAX_MEETINGS` per file, EXDATEs left out and RECURRENCE-ID overrides replacing their
occurrence; the work per rule is bounded too (see `_occurrences`). Each occurrence is its
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

__all__ = [
    "FUTURE", "MAX_MEETINGS", "MAX_OCCURRENCES", "MAX_RULE_STEPS", "PAST", "IcsError", "IcsEvents",
    "read_ics",
]  # fmt: skip

PAST = timedelta(days=730)
FUTURE = timedelta(days=90)
MAX_OCCURRENCES = 500
MAX_MEETINGS = 50_000  # per file: a 5 MB file of events repeating daily would be millions
MAX_RULE_STEPS = 1_000_000  # per file: periods walked plus starts made, expanding its rules
_FINER_THAN_DAILY = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
_WITHIN_A_DAY = ("BYHOUR", "BYMINUTE", "BYSECOND")
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 28, "YEARLY": 365}  # at least
_PROBE_YEAR = 9600  # see `_ever`
_PARTSTAT = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"}
_NOT_PEOPLE = frozenset({"ROOM", "RESOURCE"})


class IcsError(ValueError):
    """The file is not an iCalendar file (the reason says why)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IcsEvents:
    """The meetings in a file, and the event ids it marks cancelled (to remove if stored)."""

    meetings: tuple[MeetingIn, ...]
    cancelled: tuple[str, ...]


@dataclass(slots=True)
class _Budget:
    """What expanding a file's rules may still cost: periods walked and starts made."""

    steps: int = MAX_RULE_STEPS

    def spend(self, steps: int) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise IcsError(
                "the file's repeating events are too many to expand (more than "
                f"{MAX_RULE_STEPS:,} steps); split the calendar into smaller files"
            )


def read_ics(data: bytes, *, now: datetime) -> IcsEvents:
    """Every VEVENT in `data` as meetings (recurrences expanded, see the module docstring).

    Raises:
        IcsError: not an iCalendar file, or one whose repeating events are too many to
            expand (`MAX_MEETINGS`, `MAX_RULE_STEPS`).
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
    budget = _Budget()
    for event in [*masters, *overrides]:  # overrides last: they replace their occurrence
        try:
            found = list(_meetings(event, lo, hi, budget))
        except IcsError:  # the file's budget is spent: refuse it whole
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            continue  # one malformed event does not spoil the file
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            cancelled += [m.event_id for m in found]
        else:
            meetings += found
        if len(meetings) + len(cancelled) > MAX_MEETINGS:
            raise IcsError(
                f"too many meetings: more than {MAX_MEETINGS:,} in one file once repeating "
                "events are expanded; split the calendar into smaller files"
            )
    return IcsEvents(meetings=tuple(meetings), cancelled=tuple(cancelled))


def _meetings(event: Any, lo: datetime, hi: datetime, budget: _Budget) -> Iterable[MeetingIn]:
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
    for at in _occurrences(event, start_raw, lo, hi, budget):
        begin, _ = _utc(at)
        yield _meeting(event, f"{uid}#{_key(begin)}", begin, begin + length, all_day)


def _occurrences(
    event: Any, start_raw: date | datetime, lo: datetime, hi: datetime, budget: _Budget
) -> list[Any]:
    """The recurrence's starts within [lo, hi] (as their own type), EXDATEs removed.

    A file is untrusted input, so the work is bounded whatever the rule: a rule that repeats
    within a day (FREQ finer than daily, or several BYHOUR/BYMINUTE/BYSECOND values; calendar
    apps make none) is read as its first occurrence; the rule is cut at `hi`, so one that
    matches nothing (the 30th of February) stops there; a daily or weekly rule without COUNT
    starts a whole number of periods before `lo` rather than at a DTSTART of decades ago; and
    every period walked and start made is taken from the file's budget.
    """
    recur = event["RRULE"]
    frequency = str((recur.get("FREQ") or [""])[0]).upper()
    if frequency in _FINER_THAN_DAILY or any(len(recur.get(k) or ()) > 1 for k in _WITHIN_A_DAY):
        return [start_raw]
    naive = not isinstance(start_raw, datetime) or start_raw.tzinfo is None
    first = start_raw if isinstance(start_raw, datetime) else datetime.combine(start_raw, time())
    window = (lo.replace(tzinfo=None), hi.replace(tzinfo=None)) if naive else (lo, hi)
    count, interval = _number(recur, "COUNT", 0), max(_number(recur, "INTERVAL", 1), 1)
    anchor = first if count else _near(first, frequency, interval, window[0])
    until = _until(recur, naive, window[1])
    budget.spend(_periods(anchor, until, frequency, interval))
    rule_text = recur.to_ical().decode()
    if naive:
        rule_text = rule_text.replace("Z;", ";").rstrip("Z") if "UNTIL" in rule_text else rule_text
    rule = rrule.rrulestr(rule_text, dtstart=anchor).replace(count=None, until=until)
    if not _ever(rule, anchor, frequency, budget):
        return []
    excluded = {x.replace(tzinfo=None) if naive else x for x in _exdates(event)}
    found = []
    for made, at in enumerate(rule, 1):  # COUNT counts what the rule makes, EXDATEs included
        budget.spend(1)
        if at >= window[0] and at not in excluded:
            found.append(at)
        if len(found) >= MAX_OCCURRENCES or made == count:
            break
    return [f.date() for f in found] if not isinstance(start_raw, datetime) else found


def _ever(rule: rrule.rrule, anchor: datetime, frequency: str, budget: _Budget) -> bool:
    """Whether the rule makes any start at all, found with bounded work.

    A rule that matches nothing (the 30th of February, a 6th Monday) makes dateutil walk
    every period up to the year 9999 before it stops, whatever its UNTIL. The same rule
    started a whole number of 400-year Gregorian cycles later (weekdays and leap years
    repeat) in the last cycle before 9999 either makes a start or stops within 400 years;
    the periods that walk takes are charged to the file's budget."""
    cycles = -(-(_PROBE_YEAR - anchor.year) // 400)
    probe = anchor.replace(year=anchor.year + 400 * cycles)
    first = next(iter(rule.replace(dtstart=probe, count=None, until=None)), None)
    end = first or probe.replace(year=datetime.max.year, month=12, day=31)
    budget.spend(_periods(probe, end, frequency, 1))
    return first is not None


def _number(recur: Any, part: str, default: int) -> int:
    return int((recur.get(part) or [default])[0])


def _near(first: datetime, frequency: str, interval: int, lo: datetime) -> datetime:
    """`first` moved on by whole periods of a daily or weekly rule to just before `lo` (the
    same weekday and wall-clock time: the same occurrences from there on)."""
    if frequency not in ("DAILY", "WEEKLY") or first >= lo:
        return first
    period = timedelta(days=_PERIOD_DAYS[frequency] * interval)
    return first + period * max((lo - first) // period - 1, 0)


def _periods(anchor: datetime, until: datetime, frequency: str, interval: int) -> int:
    """At most how many periods the rule walks from `anchor` to `until` (each costs a step,
    whether or not it makes a start)."""
    days = (until - anchor).days if until > anchor else 0
    return days // (_PERIOD_DAYS.get(frequency, 1) * interval) + 1


def _until(recur: Any, naive: bool, hi: datetime) -> datetime:
    """The rule's UNTIL, if any, cut at `hi` (in DTSTART's kind: naive or aware)."""
    values = recur.get("UNTIL") or []
    if not values:
        return hi
    until = values[0]
    if not isinstance(until, datetime):
        until = datetime.combine(until, time())
    if naive:
        until = until.replace(tzinfo=None)
    elif until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return min(until, hi)


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
