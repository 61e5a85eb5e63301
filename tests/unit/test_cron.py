"""Cron ticks: fields, seconds, time zones and both DST transitions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from fluffymail.queue.cron import latest_tick, next_tick, validate
from fluffymail.queue.errors import InvalidOptionError


def ticks(expr: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    found, moment = [], start
    while (moment := next_tick(expr, tz, moment)) < end:
        found.append(moment)
    return found


def test_every_fifteen_minutes() -> None:
    now = datetime(2026, 5, 1, 10, 7, 30, tzinfo=UTC)
    assert latest_tick("*/15 * * * *", "UTC", now) == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert next_tick("*/15 * * * *", "UTC", now) == datetime(2026, 5, 1, 10, 15, tzinfo=UTC)
    assert latest_tick("*/15 * * * *", "UTC", datetime(2026, 5, 1, 10, 15, tzinfo=UTC)).minute == 15


def test_leading_seconds_field() -> None:
    now = datetime(2026, 5, 1, 10, 0, 7, tzinfo=UTC)
    assert latest_tick("*/5 * * * * *", "UTC", now) == datetime(2026, 5, 1, 10, 0, 5, tzinfo=UTC)
    assert next_tick("*/5 * * * * *", "UTC", now) == datetime(2026, 5, 1, 10, 0, 10, tzinfo=UTC)


def test_time_zone_wall_clock() -> None:
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 08:00 in New York (EDT, UTC-4)
    assert latest_tick("0 9 * * *", "America/New_York", now) == datetime(
        2026, 6, 30, 13, 0, tzinfo=UTC
    )


def test_spring_forward__skipped_time_fires_once_that_day() -> None:
    # 2026-03-29 02:00 Berlin jumps to 03:00; a 02:30 job still runs once that day.
    days = ticks(
        "30 2 * * *",
        "Europe/Berlin",
        datetime(2026, 3, 27, 12, tzinfo=UTC),
        datetime(2026, 3, 30, 12, tzinfo=UTC),
    )
    assert [t.date().day for t in days] == [28, 29, 30]
    assert days[1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, right after the jump


def test_fall_back__repeated_time_fires_once() -> None:
    # 2026-10-25 03:00 Berlin falls back to 02:00; 02:30 happens twice but fires once.
    days = ticks(
        "30 2 * * *",
        "Europe/Berlin",
        datetime(2026, 10, 24, 12, tzinfo=UTC),
        datetime(2026, 10, 26, 12, tzinfo=UTC),
    )
    assert days == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]
    during_second_pass = datetime(2026, 10, 25, 1, 45, tzinfo=UTC)  # 02:45 CET, after the repeat
    assert latest_tick("30 2 * * *", "Europe/Berlin", during_second_pass) == days[0]


def test_hourly_across_fall_back_has_no_duplicates() -> None:
    hours = ticks(
        "0 * * * *",
        "Europe/Berlin",
        datetime(2026, 10, 24, 22, tzinfo=UTC),
        datetime(2026, 10, 25, 4, tzinfo=UTC),
    )
    assert len(hours) == len(set(hours))
    assert all(b - a >= timedelta(hours=1) for a, b in itertools.pairwise(hours))


@pytest.mark.parametrize(
    ("expr", "tz", "message"),
    [
        ("* * *", "UTC", "invalid cron expression"),
        ("61 * * * *", "UTC", "invalid cron expression"),
        ("* * * * *", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_validate__clear_errors(expr: str, tz: str, message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        validate(expr, tz)
