"""Repeating events from an untrusted .ics file: the same occurrences as the rule gives, for
bounded work (rules finer than daily, rules that match nothing, decades-old starts)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule

from fluffymail.integrations.calendar.ics import (
    FUTURE,
    MAX_MEETINGS,
    MAX_RULE_STEPS,
    PAST,
    IcsError,
    read_ics,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ics(*events: tuple[str, str, str]) -> bytes:
    """A calendar of (uid, DTSTART line, RRULE) events, each an hour long."""
    body = "".join(
        f"BEGIN:VEVENT\nUID:{uid}\n{start}\nDURATION:PT1H\nSUMMARY:{uid}\nRRULE:{rule}\n"
        "ORGANIZER:mailto:me@example.com\nATTENDEE:mailto:ann@acme.example\nEND:VEVENT\n"
        for uid, start, rule in events
    )
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n{body}END:VCALENDAR\n".encode()


def starts(data: bytes) -> list[datetime]:
    return sorted(m.starts_on for m in read_ics(data, now=NOW).meetings)


def reference(rule: str, first: datetime) -> list[datetime]:
    """What dateutil gives for the whole rule from its DTSTART, within the window, in UTC."""
    found = rrule.rrulestr(rule, dtstart=first).between(NOW - PAST, NOW + FUTURE, inc=True)
    return [f.astimezone(UTC) for f in found][:500]


@pytest.mark.parametrize(
    ("rule", "first", "start_line"),
    [
        (
            "FREQ=DAILY;INTERVAL=3",
            datetime(1990, 3, 4, 9, 30, tzinfo=UTC),
            "DTSTART:19900304T093000Z",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
            datetime(2001, 10, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")),
            "DTSTART;TZID=Europe/Paris:20011001T090000",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=31",
            datetime(1970, 1, 31, 8, 0, tzinfo=UTC),
            "DTSTART:19700131T080000Z",
        ),
    ],
)
def test_old_rules__the_window_holds_what_the_whole_rule_gives(
    rule: str, first: datetime, start_line: str
) -> None:
    assert starts(ics(("r@t", start_line, rule))) == reference(rule, first)


def test_daylight_saving__a_weekly_meeting_keeps_its_local_time() -> None:
    data = ics(("w@t", "DTSTART;TZID=America/New_York:20050103T090000", "FREQ=WEEKLY"))
    local = {s.astimezone(ZoneInfo("America/New_York")).hour for s in starts(data)}
    assert local == {9}


def test_rule_finer_than_daily__read_as_its_first_occurrence() -> None:
    found = starts(ics(("m@t", "DTSTART:20261201T090000Z", "FREQ=MINUTELY"),
                       ("s@t", "DTSTART:20261201T090000Z", "FREQ=SECONDLY;INTERVAL=1")))  # fmt: skip
    assert found == [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)] * 2


def test_rule_that_matches_nothing__no_meeting() -> None:
    assert (
        starts(ics(("f@t", "DTSTART:20200101T090000Z", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"))) == []
    )


def test_count__counts_from_dtstart_exdates_included() -> None:
    data = ics(("c@t", "DTSTART:20261101T090000Z", "FREQ=DAILY;COUNT=4")).replace(
        b"RRULE", b"EXDATE:20261102T090000Z\nRRULE"
    )
    assert [s.day for s in starts(data)] == [1, 3, 4]
    counted_since_1900 = "FREQ=DAILY;COUNT=50000"  # its 50,000 days end in 2036
    found = starts(ics(("o@t", "DTSTART:19000101T090000Z", counted_since_1900)))
    assert found == reference(counted_since_1900, datetime(1900, 1, 1, 9, tzinfo=UTC))


def test_too_many_meetings_in_one_file__refused_with_the_reason() -> None:
    events = [(f"e{i}@t", "DTSTART:20260101T090000Z", "FREQ=DAILY") for i in range(200)]
    with pytest.raises(IcsError, match=f"more than {MAX_MEETINGS:,}"):
        read_ics(ics(*events), now=NOW)


def test_rules_too_costly_to_expand__the_file_is_refused_with_the_reason() -> None:
    counted = [
        (f"c{i}@t", "DTSTART:19800101T090000Z", "FREQ=DAILY;COUNT=900000") for i in range(40)
    ]
    with pytest.raises(IcsError, match=f"more than {MAX_RULE_STEPS:,} steps"):
        read_ics(ics(*counted), now=NOW)


def test_a_file_of_rules_that_match_nothing__refused_once_its_budget_is_spent() -> None:
    never = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"
    assert starts(ics(*[(f"n{i}@t", "DTSTART:20200101T090000Z", never) for i in range(2)])) == []
    with pytest.raises(IcsError, match="too many to expand"):
        read_ics(ics(*[(f"n{i}@t", "DTSTART:00010101T090000Z", never) for i in range(50)]), now=NOW)
