"""Option parsing: durations, start_after forms, queue options, settings' queue spec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fluffymail.config import Settings, parse_queue_concurrency
from fluffymail.queue.errors import InvalidOptionError
from fluffymail.queue.options import job_record, parse_duration, parse_start_after, queue_options


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0),
        (1.5, 1.5),
        ("10 minutes", 600),
        ("2h", 7200),
        ("1 day", 86400),
        ("PT10M", 600),
        ("P1DT1S", 86401),
        (timedelta(minutes=3), 180),
        ("45", 45),
    ],
)
def test_parse_duration__accepted_forms(value: object, seconds: float) -> None:
    assert parse_duration(value, "x") == seconds


@pytest.mark.parametrize("value", ["soon", "10 fortnights", -1, True, None, float("nan")])
def test_parse_duration__rejects_with_the_option_name(value: object) -> None:
    with pytest.raises(InvalidOptionError, match="retry_delay"):
        parse_duration(value, "retry_delay")


def test_parse_start_after__absolute_and_relative() -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_start_after(when) == {"start_at": when.isoformat()}
    assert parse_start_after("2030-01-01T00:00:00+00:00") == {"start_at": when.isoformat()}
    assert parse_start_after("10 minutes") == {"start_in": 600}
    with pytest.raises(InvalidOptionError, match="timezone-aware"):
        parse_start_after(datetime(2030, 1, 1))


def test_queue_options__pg_boss_names_and_validation() -> None:
    options = queue_options(retry_limit=5, expire_in="1 hour", retention="3 days", policy="stately")
    assert (options.retry_limit, options.expire_seconds, options.retention_seconds) == (
        5,
        3600,
        259200,
    )
    with pytest.raises(InvalidOptionError, match="expire_in must be at least 1"):
        queue_options(expire_in=0)


def test_job_record__only_carries_overrides() -> None:
    assert job_record({"a": 1}, {}) == {"data": {"a": 1}}
    assert job_record(None, {"priority": 2, "singleton_key": 7}) == {
        "data": None,
        "priority": 2,
        "singleton_key": "7",
    }


def test_queue_spec__parsed_and_validated() -> None:
    assert parse_queue_concurrency("a:2, b:5") == {"a": 2, "b": 5}
    with pytest.raises(ValueError, match="NAME:CONCURRENCY"):
        parse_queue_concurrency("a:0")


def test_settings__database_url_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    assert Settings(_env_file=None).database_url == "postgresql://x/y"
    monkeypatch.setenv("FLUFFYMAIL_QUEUES", "sync-emails:3")
    assert Settings(_env_file=None).queue_concurrency == {"sync-emails": 3}
