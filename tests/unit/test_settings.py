"""Settings refuse, when they are built, values their consumers would refuse later (a
FLUFFYMAIL_ENRICH_DEBOUNCE of 0 used to fail every extract-contacts job instead)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from fluffymail.config import Settings
from fluffymail.queue import debounce
from fluffymail.queue.options import job_record


def build(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"enrich_debounce": 0}, "enrich_debounce"),
        ({"analyze_debounce": -1}, "analyze_debounce"),
        ({"pool_max_size": 0}, "pool_max_size"),
        ({"pool_min_size": -1}, "pool_min_size"),
        ({"pool_min_size": 5, "pool_max_size": 2}, "FLUFFYMAIL_POOL_MAX_SIZE"),
        ({"metrics_port": 0}, "metrics_port"),
        ({"metrics_port": 70000}, "metrics_port"),
        ({"upload_max_unpacked_bytes": 0}, "upload_max_unpacked_bytes"),
        ({"upload_max_members": 0}, "upload_max_members"),
        ({"uploads_per_user": 0}, "uploads_per_user"),
        ({"upload_quota_bytes": 0}, "upload_quota_bytes"),
        ({"connection_tests_per_user": 0}, "connection_tests_per_user"),
        ({"connection_test_workers": 0}, "connection_test_workers"),
        ({"outbound_allow": "10.0.0.0/8, not a host!"}, "FLUFFYMAIL_OUTBOUND_ALLOW"),
        ({"outbound_ports": "993,0"}, "FLUFFYMAIL_OUTBOUND_PORTS"),
        ({"outbound_ports": "imap"}, "FLUFFYMAIL_OUTBOUND_PORTS"),
        ({"database_pooler": "session"}, "database_pooler"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(values: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError) as refused:
        build(**values)
    assert named in str(refused.value)


def test_a_bad_value_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUFFYMAIL_ENRICH_DEBOUNCE", "0")
    with pytest.raises(ValidationError, match="enrich_debounce"):
        Settings(_env_file=None)  # type: ignore[call-arg]


# Each setting sent as job options, and the options it becomes (see jobs/extract_contacts.py
# enqueue_enrichment and jobs/analyze_relationships.py).
FEEDS_JOB_OPTIONS = {
    "enrich_debounce": ("debounce",),
    "analyze_debounce": ("start_after",),
}


@pytest.mark.parametrize(("setting", "options"), FEEDS_JOB_OPTIONS.items())
def test_a_settings_range_is_what_the_queue_accepts(setting: str, options: tuple[str, ...]) -> None:
    """The smallest value the setting allows is a valid job option; one less is refused."""
    lowest = _lowest(setting)
    value = getattr(build(**{setting: lowest}), setting)
    if options == ("debounce",):  # a resetting debounce, capped at 10 windows
        debounce.parse({}, {"debounce": value, "debounce_key": "k", "debounce_max": value * 10})
    else:
        job_record({}, dict.fromkeys(options, value))  # does not raise
    with pytest.raises(ValidationError, match=setting):
        build(**{setting: lowest - 1})


def _lowest(setting: str) -> int:
    """The field's documented lower bound (its `ge`)."""
    for constraint in Settings.model_fields[setting].metadata:
        if getattr(constraint, "ge", None) is not None:
            return int(constraint.ge)
    raise AssertionError(f"{setting} has no lower bound")


def test_behind_a_transaction_pooler_the_session_lives_on_the_direct_url() -> None:
    from fluffymail.db.pool import pooled, session_url

    url, direct = "postgresql://bouncer:6432/fm", "postgresql://db:5432/fm"
    assert not pooled(build()) and session_url(build(), url) == url
    behind = build(database_pooler="transaction")
    assert pooled(behind) and session_url(behind, url) is None, "no direct URL: poll"
    with_direct = build(database_pooler="transaction", database_direct_url=direct)
    assert session_url(with_direct, url) == direct
