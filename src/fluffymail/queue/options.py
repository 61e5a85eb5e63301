"""Validation of queue and job options, turning pg-boss-style arguments into stored values.

Durations accept seconds, `timedelta`, ISO-8601 (`"PT10M"`) or words (`"10 minutes"`), up to
2**31 - 1 seconds (they are stored as integer seconds); `start_after` also accepts a `datetime`
or an ISO-8601 timestamp, at most `START_AFTER_HORIZON` ahead. Checks of single values live in
`validate.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from fluffymail.queue import validate
from fluffymail.queue.errors import InvalidOptionError

POLICIES = ("standard", "singleton", "stately")
START_AFTER_HORIZON = timedelta(days=3653)  # about 10 years: later is a bug, not a plan
_HORIZON_SECONDS = START_AFTER_HORIZON.total_seconds()
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
        try:
            return float(value)
        except OverflowError:  # an int past a float's range
            return math.inf
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


def parse_start_after(value: Any, now: datetime | None = None) -> dict[str, Any]:
    """`{"start_at": iso}` for an absolute time or `{"start_in": seconds}` for a delay; either
    at most START_AFTER_HORIZON after `now` (default: the current time)."""
    if isinstance(value, datetime):
        return {"start_at": _within_horizon(value, now).isoformat()}
    if (
        isinstance(value, str)
        and not _WORDS.match(value)
        and not value.strip().upper().startswith("P")
    ):
        try:
            moment = _datetime.validate_python(value.strip())
        except ValidationError:
            pass
        else:
            return {"start_at": _within_horizon(moment, now).isoformat()}
    delay = parse_duration(value, "start_after")
    if delay > _HORIZON_SECONDS:
        raise _beyond_horizon(value)
    return {"start_in": delay}


def _within_horizon(moment: datetime, now: datetime | None) -> datetime:
    if moment.tzinfo is None:
        raise InvalidOptionError(f"start_after datetime must be timezone-aware, got {moment!r}")
    if moment - (now or datetime.now(UTC)) > START_AFTER_HORIZON:
        raise _beyond_horizon(moment)
    return moment


def _beyond_horizon(value: Any) -> InvalidOptionError:
    return InvalidOptionError(
        f"start_after must be at most {START_AFTER_HORIZON.days} days ahead, got {value!r}"
    )


def _whole_seconds(value: Any, option: str, minimum: int = 0) -> int:
    seconds = parse_duration(value, option)
    if seconds < minimum:
        raise InvalidOptionError(f"{option} must be at least {minimum} seconds, got {value!r}")
    if seconds > validate.MAX_SECONDS:
        raise InvalidOptionError(
            f"{option} must be at most {validate.MAX_SECONDS} seconds (about 68 years), "
            f"got {value!r}"
        )
    return math.ceil(seconds)


def _count(value: Any, option: str, minimum: int = 0) -> int:
    return validate.integer(value, option, minimum)


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
    validate.known_options(options, QUEUE_OPTIONS)
    values: dict[str, Any] = {}
    if "policy" in options:
        if options["policy"] not in POLICIES:
            raise InvalidOptionError(
                f"policy must be one of {', '.join(POLICIES)}, got {options['policy']!r}"
            )
        values["policy"] = options["policy"]
    values.update(_retry_options(options))
    values.update(_time_options(options))
    if options.get("dead_letter") is not None:
        values["dead_letter"] = validate.queue_name(options["dead_letter"], "dead_letter")
    values.update(_group_options(options))
    result = QueueOptions(**values)
    if result.grouped and result.policy != "standard":
        raise InvalidOptionError("group limits and fairness need policy 'standard'")
    return result


def _time_options(options: dict[str, Any]) -> dict[str, Any]:
    """expire_in, heartbeat_seconds and retention, for a queue or a job."""
    values: dict[str, Any] = {}
    if "expire_in" in options:
        values["expire_seconds"] = _whole_seconds(options["expire_in"], "expire_in", 1)
    if "heartbeat_seconds" in options:
        values["heartbeat_seconds"] = _whole_seconds(
            options["heartbeat_seconds"], "heartbeat_seconds", 1
        )
    if "retention" in options:
        values["retention_seconds"] = _whole_seconds(options["retention"], "retention")
    return values


def _group_options(options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "fair" in options:
        values["fair"] = validate.flag(options["fair"], "fair")
    for key in ("group_concurrency", "group_rate_limit"):
        if options.get(key) is not None:
            values[key] = _count(options[key], key, 1)
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
        values["retry_backoff"] = validate.flag(options["retry_backoff"], "retry_backoff")
    if options.get("retry_delay_max") is not None:
        values["retry_delay_max"] = _whole_seconds(options["retry_delay_max"], "retry_delay_max", 1)
    return values


def job_record(data: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """One row for `insert_jobs.sql`: the payload plus the options the job overrides. The
    payload itself is checked when it is encoded (`validate.json_text`)."""
    if not options:
        return {"data": data}
    if not isinstance(options, dict):
        if not isinstance(options, Mapping):
            raise InvalidOptionError(f"job options must be a mapping, got {options!r}")
        options = dict(options)
    validate.known_options(options, SEND_OPTIONS)
    record = {"data": data}
    record.update(_retry_options(options))
    record.update(_time_options(options))
    record.update(_send_only_options(options))
    return record


def spec_record(spec: Any) -> dict[str, Any]:
    """One row for `insert_many`: a spec is `{"data": ..., **options}`."""
    if not isinstance(spec, Mapping):
        raise InvalidOptionError(f"each spec must be a mapping like {{'data': ...}}, got {spec!r}")
    return job_record(spec.get("data"), {k: v for k, v in spec.items() if k != "data"})


def _send_only_options(options: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "priority" in options:
        values["priority"] = validate.integer(
            options["priority"], "priority", validate.INT4_MIN, validate.INT4_MAX
        )
    if options.get("start_after") is not None:
        values.update(parse_start_after(options["start_after"]))
    if options.get("singleton_seconds") is not None:
        values["singleton_seconds"] = _whole_seconds(
            options["singleton_seconds"], "singleton_seconds", 1
        )
    for key in ("singleton_key", "group_key"):
        if options.get(key) is not None:
            values[key] = validate.key(options[key], key)
    if options.get("dead_letter") is not None:
        values["dead_letter"] = validate.queue_name(options["dead_letter"], "dead_letter")
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
