"""Jinja filters the pages share: relative times, durations and counts, in plain words."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import Environment

from fluffymail.web.markdown import NoteRenderer


def duration(seconds: float | int | None) -> str:
    """`75` -> "1m 15s"; `0` -> "0s"."""
    if seconds is None:
        return "—"
    total = round(float(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def relative(moment: datetime | None, now: datetime | None = None) -> str:
    """ "3m 5s ago" or "in 12m 0s" relative to `now` (the database clock when given)."""
    if moment is None:
        return "never"
    now = now or datetime.now(UTC)
    delta = (moment - now).total_seconds()
    if abs(delta) < 1:
        return "just now"
    return f"in {duration(delta)}" if delta > 0 else f"{duration(-delta)} ago"


def number(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


def strength(value: float | None) -> str:
    """A strength as a whole number, rounded down, so it never crosses its level's threshold
    (59.9 is "moderate" and shows 59, not 60; SCORING.md "Figures")."""
    return "—" if value is None else str(math.floor(value))


def timestamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def short_json(value: Any, limit: int = 80) -> str:
    import json

    text = json.dumps(value, default=str, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def install(env: Environment) -> None:
    env.filters.update(
        duration=duration,
        relative=relative,
        number=number,
        strength=strength,
        timestamp=timestamp,
        short_json=short_json,
        markdown=NoteRenderer(),
    )
    env.globals["timedelta"] = timedelta
