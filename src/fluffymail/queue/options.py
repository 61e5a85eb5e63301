"""Validation of queue and job options, turning pg-boss-style arguments into stored values.

Durations accept seconds, `timedelta`, ISO-8601 (`"PT10M"`) or words (`"10 minutes"`);
`start_after` also accepts a `datetime` or an ISO-8601 timestamp.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from fluffymail.queue.errors import InvalidOptionError

POLICIES = ("standard", "singleton", "stately")
_UNITS = {
    "": 1,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_WORDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_timedelta = TypeAdapter(timedelta)
_datetime = TypeAdapter(datetime)


def parse_duration(value: Any, option: str) -> float:
    """Seconds from a number, timedelta, ISO-8601 duration or `"10 minutes"`; never negative."""
    seconds = _duration_seconds(value, option)
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidOptionError(f"{option} must be a non-negative duration, got {value!r}")
    return seconds


def _duration_seconds(value: Any, option: str) -> float:
    if isinstance(value, bool):
        raise InvalidOptionError(f"{option} must be a duration, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        if match := _WORDS.match(value):
            unit = _UNITS.get(match[2].lower())
            if unit is not None:
                return float(match[1]) * unit
        try:
            return _timedelta.validate_python(value.strip()).total_seconds()
        except ValidationError:
            pass
    raise InvalidOptionError(
        f"{option}: cannot parse {value!r} as a duration "
        "(use seconds, a timedelta, 'PT10M' or '10 minutes')"
    )


def parse_start_after(value: Any) -> dict[str, Any]:
    """`{"start_at": iso}` for an absolute time or `{"start_in": seconds}` for a delay."""
    if isinstance(value, datetime):
        return {"start_at": _aware(value).isoformat()}
    if (
        isinstance(value, str)
        and not _WORDS.match(value)
        and not value.strip().upper().startswith("P")
    ):
        try:
            return {"start_at": _aware(_datetime.validate_python(value.strip())).isoformat()}
        except ValidationError:
            pass
    return {"start_in": parse_duration(value, "start_after")}


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidOptionError(f"start_after datetime must be timezone-aware, got {moment!r}")
    return moment


def _whole_seconds(value: Any, option: str, minimum: int = 0) -> int:
    seconds = parse_duration(value, option)
    if seconds < minimum:
        raise InvalidOptionError(f"{option} must be at least {minimum} seconds, got {value!r}")
    return math.ceil(seconds)


def _count(value: Any, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidOptionError(f"{option} must be a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOptions:
    """A queue's defaults, inherited by each job sent to it unless the job overrides them."""

    policy: str = "standard"
    retry_limit: int = 2
    retry_delay: int = 0
    retry_backoff: bool = False
    retry_delay_max: int | None = None
    expire_seconds: int = 900
    heartbeat_seconds: int = 30
    retention_seconds: int = 7 * 86400
    dead_letter: str | None = None
    fair: bool = False
    group_concurrency: int | None = None
    group_rate_limit: int | None = None
    group_rate_period: int = 60

    @property
    def grouped(self) -> bool:
        return self.fair or self.group_concurrency is not None or self.group_rate_limit is not None

    @property
    def fetch_query(self) -> str:
        """Which claim statement serves this queue."""
        if self.grouped:
            return "fetch_jobs_fair"
        return "fetch_jobs" if self.policy == "standard" else "fetch_jobs_policy"

    def as_params(self, name: str) -> dict[str, Any]:
        return {"name": name, **asdict(self)}


def queue_options(**options: Any) -> QueueOptions:
    """Validate `create_queue` keyword options (pg-boss names accepted: expire_in, retention)."""
    _reject_unknown(options, QUEUE_OPTIONS)
    values: dict[str, Any] = {}
    if "policy" in options:
        if options["policy"] not in POLICIES:
            raise InvalidOptionError(
                f"policy must be one of {', '.join(POLICIES)}, got {options['policy']!r}"
            )
        values["policy"] = options["policy"]
    values.update(_retry_options(options))
    if "expire_in" in options:
        values["expire_seconds"] = _whole_seconds(options["expire_in"], "expire_in", 1)
    if "heartbeat_seconds" in options:
        values["heartbeat_seconds"] = _whole_seconds(
            options["heartbeat_seconds"], "heartbeat_seconds", 1
        )
    if "retention" in options:
        values["retention_seconds"] = _whole_seconds(options["retention"], "retention")
    if options.get("dead_letter") is not None:
        values["dead_letter"] = _name(options["dead_letter"], "dead_letter")
    values.update(_group_options(options))
    result = QueueOptions(**values)
    if result.grouped and result.policy != "standard":
        raise InvalidOptionError("group limits and fairness need policy 'standard'")
    return result


def _group_options(options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "fair" in options:
        values["fair"] = bool(options["fair"])
    for key in ("group_concurrency", "group_rate_limit"):
        if options.get(key) is not None:
            if _count(options[key], key) < 1:
                raise InvalidOptionError(f"{key} must be at least 1, got {options[key]!r}")
            values[key] = options[key]
    if "group_rate_period" in options:
        values["group_rate_period"] = _whole_seconds(
            options["group_rate_period"], "group_rate_period", 1
        )
    return values


def _retry_options(options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "retry_limit" in options:
        values["retry_limit"] = _count(options["retry_limit"], "retry_limit")
    if "retry_delay" in options:
        values["retry_delay"] = _whole_seconds(options["retry_delay"], "retry_delay")
    if "retry_backoff" in options:
        values["retry_backoff"] = bool(options["retry_backoff"])
    if options.get("retry_delay_max") is not None:
        values["retry_delay_max"] = _whole_seconds(options["retry_delay_max"], "retry_delay_max", 1)
    return values


def _name(value: Any, option: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidOptionError(f"{option} must be a queue name, got {value!r}")
    return value


def job_record(data: Any, options: dict[str, Any]) -> dict[str, Any]:
    """One row for `insert_jobs.sql`: the payload plus the options the job overrides."""
    _reject_unknown(options, SEND_OPTIONS)
    record: dict[str, Any] = {"data": data}
    if options:
        record.update(_retry_options(options))
        record.update(_send_only_options(options))
    return record


def _send_only_options(options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "priority" in options:
        priority = options["priority"]
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise InvalidOptionError(f"priority must be an integer, got {priority!r}")
        values["priority"] = priority
    if options.get("start_after") is not None:
        values.update(parse_start_after(options["start_after"]))
    if "expire_in" in options:
        values["expire_seconds"] = _whole_seconds(options["expire_in"], "expire_in", 1)
    if "heartbeat_seconds" in options:
        values["heartbeat_seconds"] = _whole_seconds(
            options["heartbeat_seconds"], "heartbeat_seconds", 1
        )
    if "retention" in options:
        values["retention_seconds"] = _whole_seconds(options["retention"], "retention")
    if options.get("singleton_seconds") is not None:
        values["singleton_seconds"] = _whole_seconds(
            options["singleton_seconds"], "singleton_seconds", 1
        )
    for key in ("singleton_key", "group_key", "dead_letter"):
        if options.get(key) is not None:
            values[key] = str(options[key])
    return values


QUEUE_OPTIONS = frozenset(
    {
        "fair",
        "group_concurrency",
        "group_rate_limit",
        "group_rate_period",
        "policy",
        "retry_limit",
        "retry_delay",
        "retry_backoff",
        "retry_delay_max",
        "expire_in",
        "heartbeat_seconds",
        "retention",
        "dead_letter",
    }
)
SEND_OPTIONS = frozenset(
    {
        "priority",
        "retry_limit",
        "retry_delay",
        "retry_backoff",
        "retry_delay_max",
        "start_after",
        "expire_in",
        "heartbeat_seconds",
        "retention",
        "singleton_key",
        "singleton_seconds",
        "group_key",
        "dead_letter",
    }
)


def _reject_unknown(options: dict[str, Any], known: frozenset[str]) -> None:
    for option in options:
        if option not in known:
            close = difflib.get_close_matches(option, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidOptionError(f"unknown option {option!r}{hint}")
