"""Trend against the previous period, and the going-cold flag for strong relationships."""

from __future__ import annotations

from datetime import timedelta

from fluffymail.crm.relationships import scoring
from fluffymail.crm.relationships.models import Level, Trend

from .conftest import NOW, exchanges


def test_trend__warming_when_the_last_period_is_busier() -> None:
    history = exchanges([100, 150] + [k * 6 for k in range(15)])
    assert scoring.analyze(history, NOW).trend is Trend.WARMING


def test_trend__cooling_when_the_last_period_is_quieter() -> None:
    history = exchanges([95 + k * 5 for k in range(15)] + [30])
    assert scoring.analyze(history, NOW).trend is Trend.COOLING


def test_trend__steady_at_the_same_pace() -> None:
    history = exchanges([k * 7 for k in range(60)])
    assert scoring.analyze(history, NOW).trend is Trend.STEADY


def test_trend__steady_on_too_little_data() -> None:
    assert scoring.analyze(exchanges([3]), NOW).trend is Trend.STEADY


def test_going_cold__a_strong_weekly_relationship_silent_for_six_weeks() -> None:
    history = exchanges([k * 7 for k in range(60)])
    assert scoring.analyze(history, NOW).level in (Level.STRONG, Level.VERY_STRONG)
    later = NOW + timedelta(days=42)
    result = scoring.analyze(history, later)
    assert result.usual_gap_days == 7
    assert result.going_cold
    assert result.evidence[1].text.startswith("Silent for 41 days; usually every 7 days")
    assert result.evidence[1].message_ids == ("x-0b",)


def test_going_cold__not_within_the_usual_rhythm() -> None:
    history = exchanges([k * 7 for k in range(60)])
    assert not scoring.analyze(history, NOW + timedelta(days=13)).going_cold


def test_going_cold__a_slow_rhythm_allows_a_longer_silence() -> None:
    history = exchanges([k * 30 for k in range(30)])
    assert not scoring.analyze(history, NOW + timedelta(days=80)).going_cold
    assert scoring.analyze(history, NOW + timedelta(days=100)).going_cold


def test_going_cold__never_for_weak_relationships() -> None:
    history = exchanges([0, 7, 14], two_way=False)
    assert not scoring.analyze(history, NOW + timedelta(days=200)).going_cold
