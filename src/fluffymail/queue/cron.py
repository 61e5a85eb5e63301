"""Cron arithmetic for schedules: validation and ticks in a time zone, DST included.

Expressions have 5 fields, or 6 with a leading seconds field (`*/10 * * * * *`). Ticks are
computed on the zone's wall clock. A tick that falls in a spring-forward gap fires once, at
the same wall-clock offset after the jump; a tick in a fall-back overlap fires once, at its
first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from fluffymail.queue.errors import InvalidOptionError


def _has_seconds(expr: str) -> bool:
    return len(expr.split()) == 6


def validate(expr: str, tz: str) -> ZoneInfo:
    """Check the expression and zone; returns the zone. Raises InvalidOptionError."""
    fields = expr.split()
    if len(fields) not in (5, 6) or not croniter.is_valid(
        expr, second_at_beginning=_has_seconds(expr)
    ):
        raise InvalidOptionError(
            f"invalid cron expression {expr!r}: use 5 fields, or 6 with leading seconds"
        )
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidOptionError(f"unknown time zone {tz!r}") from exc


def _walk(expr: str, wall: datetime, *, backwards: bool) -> croniter:
    return croniter(expr, wall, is_prev=backwards, second_at_beginning=_has_seconds(expr))


def _aware(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def latest_tick(expr: str, tz: str, now: datetime) -> datetime:
    """The newest tick at or before `now` (UTC-aware)."""
    zone = validate(expr, tz)
    wall = now.astimezone(zone).replace(tzinfo=None)
    walker = _walk(expr, wall + timedelta(microseconds=1), backwards=True)
    while True:
        tick = _aware(walker.get_prev(datetime), zone)
        if tick <= now:  # a gap tick maps past `now`: the one before it is the latest
            return tick


def next_tick(expr: str, tz: str, after: datetime) -> datetime:
    """The first tick strictly after `after` (UTC-aware)."""
    zone = validate(expr, tz)
    walker = _walk(expr, after.astimezone(zone).replace(tzinfo=None), backwards=False)
    while True:
        tick = _aware(walker.get_next(datetime), zone)
        if tick > after:  # an overlap's second occurrence maps back to the first
            return tick
