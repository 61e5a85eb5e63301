"""Debounce that resets: sends for one key within a window become one job, run once they stop.

`await queue.send("enrich", data, debounce_key="contact-7", debounce="60s",
debounce_max="10 minutes")`: while a job of the queue with that key is queued (not started),
each send pushes its start to now + `debounce` and gives it the newest data
(`debounce_data="first"` keeps the first, `"merge"` merges JSON objects, newest keys winning),
but never past its first send + `debounce_max` (no cap when omitted). A send after the job
started makes a new job, whose window starts then. The key is stored as the job's
`singleton_key`, so the queue's unique index (one queued job per key, `standard` queues only)
arbitrates concurrent senders: any number of them, in any number of processes, leave exactly
one queued job. In the caller's transaction (`conn=`), the queued job stays locked until it
ends, so other senders for that key wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluffymail.queue import validate
from fluffymail.queue.errors import InvalidOptionError
from fluffymail.queue.options import START_AFTER_HORIZON, job_record, parse_duration

OPTIONS = ("debounce", "debounce_key", "debounce_max", "debounce_data")
DATA_RULES = ("newest", "first", "merge")
# Options a debounced send cannot take: its start is the window, its key the debounce key.
EXCLUSIVE = ("start_after", "singleton_seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class Debounce:
    """One debounced send: the window, its cap and what becomes of the data of a queued job."""

    key: str
    window: float  # seconds
    max_wait: float | None  # seconds after the first send; None: no cap
    keep: str  # newest | first | merge

    def params(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "window": self.window,
            "max_wait": self.max_wait,
            "keep": self.keep,
        }


def wanted(options: dict[str, Any]) -> bool:
    """Whether `send` options ask for a debounce (debounce options given as None are dropped)."""
    if any(options.get(option) is not None for option in OPTIONS):
        return True
    for option in OPTIONS:
        options.pop(option, None)
    return False


def parse(data: Any, options: dict[str, Any]) -> tuple[Debounce, dict[str, Any]]:
    """The debounce and the job's other options (a record for send_debounced.sql, no data)."""
    rest = {k: v for k, v in options.items() if k not in OPTIONS}
    if "debounce" not in options or options["debounce"] is None:
        raise InvalidOptionError("debounce_key, debounce_max and debounce_data need debounce=")
    for option in EXCLUSIVE:
        if rest.get(option) is not None:
            raise InvalidOptionError(f"a debounced send cannot take {option}")
    key = options.get("debounce_key", rest.get("singleton_key"))
    if key is None:
        raise InvalidOptionError("debounce needs debounce_key= (one queued job per key)")
    key = validate.key(key, "debounce_key")
    if rest.get("singleton_key") is not None and validate.key(rest["singleton_key"], "") != key:
        raise InvalidOptionError("singleton_key and debounce_key differ; pass one of them")
    rest.pop("singleton_key", None)
    window = parse_duration(options["debounce"], "debounce")
    if not 0 < window <= START_AFTER_HORIZON.total_seconds():
        raise InvalidOptionError(
            f"debounce must be a positive duration of at most {START_AFTER_HORIZON.days} days, "
            f"got {options['debounce']!r}"
        )
    max_wait = None
    if options.get("debounce_max") is not None:
        max_wait = parse_duration(options["debounce_max"], "debounce_max")
        if max_wait < window or max_wait > validate.MAX_SECONDS:
            raise InvalidOptionError(
                f"debounce_max must be at least debounce ({window}s), got {options['debounce_max']!r}"
            )
    keep = options.get("debounce_data", "newest")
    if keep not in DATA_RULES:
        raise InvalidOptionError(
            f"debounce_data must be one of {', '.join(DATA_RULES)}, got {keep!r}"
        )
    record = job_record(data, rest)
    del record["data"]
    return Debounce(key=key, window=window, max_wait=max_wait, keep=keep), record
