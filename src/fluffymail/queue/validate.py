"""Checks on what callers hand the queue, run before any SQL (issue 16): types, ranges, names
and text PostgreSQL cannot store. Each failure is an `InvalidOptionError` naming the input.

Limits: integers fit the integer columns (durations are whole seconds up to 2**31 - 1, about
68 years); job ids are 1 .. 2**63 - 1; queue names match `QUEUE_NAME` (the table's CHECK);
keys are strings (or ints, stored as text) of at most `MAX_KEY_LENGTH` characters; no text,
in data or anywhere else, may hold a NUL character or a lone UTF-16 surrogate; `start_after`
is at most `options.START_AFTER_HORIZON` (3,653 days) ahead.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from fluffymail.queue.errors import InvalidOptionError
from fluffymail.queue.job import JobState

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
BIGINT_MAX = 2**63 - 1
MAX_SECONDS = INT4_MAX  # durations are stored as integer seconds
MAX_KEY_LENGTH = 500  # singleton/group keys live in btree indexes (about 2,700 bytes a row)
QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}")  # = queue.queue's name CHECK
FILTERS = frozenset({"name", "states", "group_key", "since", "until", "limit"})  # find_jobs'
_SURROGATE = re.compile("[\ud800-\udfff]")
# in JSON text with no escaped backslash before a "ud": a high-surrogate escape with no low one
# after it, or a low one with no high one before it
_LONE_SURROGATE = re.compile(
    r"\\ud(?:[89ab][0-9a-f]{2}(?!\\ud[c-f])|[c-f][0-9a-f]{2}(?<!\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}))"
)


def integer(value: Any, option: str, minimum: int = 0, maximum: int = INT4_MAX) -> int:
    """`value` if it is an int (not a bool) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidOptionError(
            f"{option} must be an integer from {minimum} to {maximum}, got {value!r}"
        )
    return value


def flag(value: Any, option: str) -> bool:
    """`value` if it is a bool (1, "yes" and None are refused: say True or False)."""
    if not isinstance(value, bool):
        raise InvalidOptionError(f"{option} must be True or False, got {value!r}")
    return value


def seconds(value: Any, option: str, maximum: float = MAX_SECONDS) -> float:
    """A finite, positive number of seconds up to `maximum`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and 0 < value <= maximum)
    ):
        raise InvalidOptionError(
            f"{option} must be a number of seconds above 0 and at most {maximum}, got {value!r}"
        )
    return float(value)


def text(value: Any, option: str, max_length: int | None = None) -> str:
    """A string PostgreSQL can store: no NUL, no lone surrogate, at most `max_length` long."""
    if not isinstance(value, str):
        raise InvalidOptionError(f"{option} must be a string, got {value!r}")
    if "\x00" in value or (not value.isascii() and _SURROGATE.search(value)):
        raise InvalidOptionError(
            f"{option} must not contain NUL characters or lone surrogates, got {value!r}"
        )
    if max_length is not None and len(value) > max_length:
        raise InvalidOptionError(
            f"{option} must be at most {max_length} characters, got {len(value)}"
        )
    return value


def queue_name(value: Any, option: str = "queue name") -> str:
    """A queue name: 1-100 of letters, digits and `_ . : / -`, starting with a letter or digit."""
    if not isinstance(value, str) or not QUEUE_NAME.fullmatch(value):
        raise InvalidOptionError(
            f"{option} must be 1-100 characters of letters, digits and _.:/- "
            f"starting with a letter or digit, got {value!r}"
        )
    return value


def key(value: Any, option: str) -> str:
    """A singleton or group key: a string, or an int (stored as its decimal text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidOptionError(f"{option} must be a string or an integer, got {value!r}")
    return text(value, option, MAX_KEY_LENGTH)


def job_id(value: Any, option: str = "job id") -> int:
    return integer(value, option, 1, BIGINT_MAX)


def job_ids(value: Any) -> list[int]:
    """One job id or an iterable of them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [job_id(value)]
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidOptionError(f"job ids must be an integer or a list of them, got {value!r}")
    return [job_id(item) for item in value]


def lease(value: Any) -> tuple[int, int]:
    """A (job id, attempt) pair."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise InvalidOptionError(
            f"expected a Job, a Lease or a (job id, attempt) pair, got {value!r}"
        )
    return job_id(value[0]), integer(value[1], "attempt")


def items(values: Any, what: str) -> list[Any]:
    """A list from an iterable of items (a string or a mapping is one item, not many)."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise InvalidOptionError(f"{what} must be a list (or another iterable), got {values!r}")
    return list(values)


def known_options(options: Mapping[str, Any], known: frozenset[str]) -> None:
    """Refuse an option not in `known`, suggesting the closest one."""
    if options.keys() <= known:
        return
    for option in options:
        if not isinstance(option, str):
            raise InvalidOptionError(f"option names must be strings, got {option!r}")
        if option not in known:
            close = difflib.get_close_matches(option, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidOptionError(f"unknown option {option!r}{hint}")


def filters(given: dict[str, Any]) -> dict[str, Any]:
    """`find_jobs` filters, checked (group keys as text, states as their names)."""
    known_options(given, FILTERS)
    checked = dict(given)
    if checked.get("name") is not None:
        queue_name(checked["name"], "name")
    if checked.get("group_key") is not None:
        checked["group_key"] = key(checked["group_key"], "group_key")
    if checked.get("states") is not None:
        checked["states"] = [_state(state) for state in items(checked["states"], "states")]
    for bound in ("since", "until"):
        moment(checked.get(bound), bound)
    if "limit" in checked:
        integer(checked["limit"], "limit", 0, BIGINT_MAX)
    return checked


def _state(value: Any) -> str:
    if not isinstance(value, str) or value not in JobState._value2member_map_:
        raise InvalidOptionError(f"states must be among {', '.join(JobState)}, got {value!r}")
    return str(value)


def moment(value: Any, option: str) -> datetime | None:
    """None or a datetime (naive ones are read in the database session's time zone)."""
    if value is not None and not isinstance(value, datetime):
        raise InvalidOptionError(f"{option} must be a datetime, got {value!r}")
    return value


def json_text(value: Any, what: str = "data") -> str:
    """`value` as compact JSON that jsonb accepts (no NaN, no NUL, no lone surrogate)."""
    try:
        encoded = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidOptionError(f"{what} is not JSON-serialisable: {exc}") from exc
    # ensure_ascii: every NUL and surrogate is a \uXXXX escape, so a substring test clears
    # almost every payload; only those that hold one are looked at escape by escape
    if ("\\u0000" in encoded or "\\ud" in encoded) and (problem := _unstorable(encoded)):
        raise InvalidOptionError(f"{what} contains {problem}, which PostgreSQL cannot store")
    return encoded


def _unstorable(encoded: str) -> str | None:
    """'a NUL character' or 'a lone surrogate' if the JSON text's escapes hold one."""
    if "\\u0000" in encoded and next(_escapes(encoded, "\\u0000"), None) is not None:
        return "a NUL character"
    if "\\ud" not in encoded:
        return None
    if "\\\\ud" in encoded:  # text that only looks like an escape: decode to be sure
        return None if _utf8(encoded) else "a lone surrogate"
    return "a lone surrogate" if _LONE_SURROGATE.search(encoded) else None


def _utf8(encoded: str) -> bool:
    """Whether the JSON text's strings, escapes decoded, can be written as UTF-8."""
    try:
        json.dumps(json.loads(encoded), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _escapes(encoded: str, prefix: str) -> Iterator[int]:
    """Where `prefix` starts a real escape (its backslash is not itself escaped)."""
    at = encoded.find(prefix)
    while at >= 0:
        before = at
        while before and encoded[before - 1] == "\\":
            before -= 1
        if (at - before) % 2 == 0:
            yield at
        at = encoded.find(prefix, at + 1)


def _code_at(encoded: str, at: int) -> int:
    """The code of the \\uXXXX escape at `at`, or -1 if there is none."""
    if encoded.startswith("\\u", at):
        return int(encoded[at + 2 : at + 6], 16)
    return -1


def printable(value: str) -> str:
    """`value` with NULs and lone surrogates escaped, for error text the queue stores."""
    if "\x00" not in value and not _SURROGATE.search(value):
        return value
    cleaned = value.replace("\x00", "\\x00")
    return cleaned.encode("utf-8", "backslashreplace").decode("utf-8")
