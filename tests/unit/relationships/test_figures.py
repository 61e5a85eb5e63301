"""The figures as parsed from crm.contact_figures: never a number while updating."""

from __future__ import annotations

from datetime import UTC, datetime

from fluffymail.crm.relationships import figures
from fluffymail.web.ui.filters import strength


def test_from_json__a_current_row() -> None:
    f = figures.from_json(
        {
            "updating": False,
            "messages": 101,
            "sent": 47,
            "received": 54,
            "threads": 29,
            "two_way_threads": 25,
            "first_at": "2026-01-10T16:06:23+00:00",
            "last_at": "2026-12-05T21:16:44+00:00",
            "strength": 92.7,
            "level": "very strong",
        }
    )
    assert (f.messages, f.sent, f.received, f.threads, f.two_way_threads) == (101, 47, 54, 29, 25)
    assert f.last_at == datetime(2026, 12, 5, 21, 16, 44, tzinfo=UTC)
    assert f.sentence == "101 messages in 29 threads (47 from you, 54 from them)"


def test_from_json__no_relationship_is_zero_not_unknown() -> None:
    f = figures.from_json({"updating": False, "messages": None, "strength": None, "level": None})
    assert (f.messages, f.sent, f.strength, f.level) == (0, 0, None, "no connection")
    assert f.sentence == "0 messages in 0 threads (0 from you, 0 from them)"


def test_from_json__updating_or_missing_has_no_numbers() -> None:
    for raw in ({"updating": True, "messages": 3, "strength": 50.0}, None, {}):
        f = figures.from_json(raw)
        assert f.updating and f.messages is None and f.strength is None
        assert f.sentence == "updating…"


def test_strength__rounded_down_so_the_level_threshold_holds() -> None:
    assert (strength(59.9), strength(60.0), strength(0.3), strength(None)) == ("59", "60", "0", "—")
