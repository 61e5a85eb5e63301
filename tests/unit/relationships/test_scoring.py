"""The strength score on crafted histories: reciprocity, recency, decay, cc, levels, evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from fluffymail.crm.relationships import scoring
from fluffymail.crm.relationships.models import Direction, Kind, Level

from .conftest import NOW, exchanges, one_way


def weekly(weeks: int, start: float = 0.0) -> list[float]:
    return [start + 7 * k for k in range(weeks)]


def test_score__frequent_two_way_beats_a_frequent_one_way_newsletter() -> None:
    friend = scoring.analyze(exchanges(weekly(20)), NOW)
    newsletter = scoring.analyze(
        one_way([k / 2 for k in range(300)], direction=Direction.RECEIVED), NOW
    )
    assert friend.score > 60 > 20 > newsletter.score
    assert newsletter.parts.frequency > 0.99  # as frequent as it gets, and still weak
    assert newsletter.level is Level.VERY_WEAK
    assert "one-way" in newsletter.evidence[0].text


def test_score__one_way_mail_to_the_user_keeps_the_floor_however_sustained() -> None:
    newsletter = scoring.analyze(one_way(range(0, 300), direction=Direction.RECEIVED), NOW)
    assert newsletter.parts.reciprocity == pytest.approx(scoring.RECIPROCITY_FLOOR)
    assert newsletter.score <= 10


def test_score__a_handful_of_unanswered_outreach_stays_weak() -> None:
    handful = scoring.analyze(one_way([0, 2, 5, 9, 12], direction=Direction.SENT), NOW)
    burst = scoring.analyze(one_way([k / 10 for k in range(10)], direction=Direction.SENT), NOW)
    assert handful.score <= 10 and burst.score <= 10
    assert "You wrote 5 times on 5 days and never got an answer" in handful.evidence[0].text


def test_score__sustained_outreach_by_the_user_rises_but_stays_below_moderate() -> None:
    """The user's own mail on many distinct days is evidence of a relationship (answers may be
    filed elsewhere), never as much as two-way mail, and never more than weak on its own."""
    handful = scoring.analyze(one_way(weekly(5), direction=Direction.SENT), NOW)
    sustained = scoring.analyze(one_way(range(0, 100), direction=Direction.SENT), NOW)
    two_way = scoring.analyze(exchanges(range(0, 50)), NOW)
    assert handful.score < sustained.score < 40 <= two_way.score - 40
    assert sustained.level is Level.WEAK


def test_score__recent_beats_old_at_equal_volume() -> None:
    recent = scoring.analyze(exchanges(weekly(8)), NOW)
    old = scoring.analyze(exchanges(weekly(8, start=400)), NOW)
    assert recent.stats.total == old.stats.total
    assert recent.score > old.score
    assert recent.parts.activity > 3 * old.parts.activity


def test_score__a_long_relationship_decays_slower() -> None:
    long = exchanges([30 * k for k in range(24)], prefix="long")  # monthly for two years
    short = exchanges([k for k in range(0, 24)], prefix="short")  # the same volume in a month
    assert scoring.half_life_days(24) > scoring.half_life_days(1)

    def kept(history: list, days: int) -> float:
        later = scoring.analyze(history, NOW + timedelta(days=days))
        return later.parts.activity / scoring.analyze(history, NOW).parts.activity

    assert kept(long, 120) > kept(short, 120) + 0.2
    long_after = scoring.analyze(long, NOW + timedelta(days=120))
    short_after = scoring.analyze(short, NOW + timedelta(days=120))
    assert long_after.score > short_after.score


def test_score__cc_only_is_weaker_than_direct() -> None:
    direct = scoring.analyze(exchanges(weekly(20)), NOW)
    cc = scoring.analyze(exchanges(weekly(20), kind=Kind.CC), NOW)
    assert direct.score > cc.score
    assert cc.stats.cc_only and not direct.stats.cc_only
    assert cc.parts.directness == pytest.approx(0.6)
    assert any("Only ever cc'd" in e.text for e in cc.evidence)


def test_score__cc_only_never_reaches_strong_however_frequent() -> None:
    cc = scoring.analyze(exchanges([k / 4 for k in range(400)], kind=Kind.CC), NOW)
    assert cc.score <= 60


def test_score__balance_tolerates_two_to_one_but_not_ten_to_one() -> None:
    mostly_them = exchanges(weekly(10)) + one_way(weekly(10, start=1), direction=Direction.RECEIVED)
    flood = exchanges(weekly(2)) + one_way([k / 3 for k in range(40)], direction=Direction.RECEIVED)
    assert scoring.analyze(mostly_them, NOW).parts.balance == 1.0
    assert scoring.analyze(flood, NOW).parts.balance < 0.25


@pytest.mark.parametrize(
    ("score", "level"),
    [(100, Level.VERY_STRONG), (80, Level.VERY_STRONG), (79.9, Level.STRONG), (60, Level.STRONG),
     (40, Level.MODERATE), (20, Level.WEAK), (19.9, Level.VERY_WEAK), (1, Level.VERY_WEAK),
     (0.9, Level.NO_CONNECTION), (0, Level.NO_CONNECTION)],
)  # fmt: skip
def test_level_for__thresholds(score: float, level: Level) -> None:
    assert scoring.level_for(score) is level


def test_score__empty_history_is_no_connection() -> None:
    result = scoring.analyze([], NOW)
    assert (result.score, result.level, result.evidence) == (0.0, Level.NO_CONNECTION, ())


def test_score__fades_to_no_connection_after_years_of_silence() -> None:
    result = scoring.analyze(exchanges([3]), NOW + timedelta(days=3650))
    assert result.level is Level.NO_CONNECTION


def test_score__is_bounded_and_grows_with_volume() -> None:
    scores = [
        scoring.analyze(exchanges([k / n for k in range(n)]), NOW).score for n in (1, 5, 50, 500)
    ]
    assert scores == sorted(scores)
    assert 0 < scores[0] and scores[-1] <= 100


def test_stats__counts_replies_threads_medians_and_months() -> None:
    history = exchanges([0, 40], reply_after=timedelta(hours=2)) + one_way(
        [10], direction=Direction.SENT
    )
    stats = scoring.analyze(history, NOW).stats
    assert (stats.sent, stats.received, stats.direct, stats.cc) == (3, 2, 5, 0)
    assert (stats.two_way_threads, stats.replies_sent, stats.replies_received) == (2, 2, 0)
    assert stats.median_reply_sent == timedelta(hours=2)
    assert stats.median_reply_received is None
    assert stats.first_at == NOW - timedelta(days=40)
    assert stats.last_at == NOW + timedelta(hours=2)
    assert [(m.month, m.sent, m.received) for m in stats.monthly] == [
        ("2025-11", 1, 1),
        ("2025-12", 1, 0),
        ("2026-01", 1, 1),
    ]


def test_evidence__cites_only_messages_from_the_history() -> None:
    history = exchanges(weekly(30))
    result = scoring.analyze(history, NOW + timedelta(days=2))
    ids = {i.message_id for i in history}
    assert 1 <= len(result.evidence) <= scoring.MAX_EVIDENCE
    assert all(set(e.message_ids) <= ids for e in result.evidence)
    top = result.evidence[0]
    assert top.text.startswith("30 two-way threads, last reply 1 day ago")
    assert top.message_ids == ("x-0b",)


def test_now__a_message_from_the_future_moves_now_forward() -> None:
    history = exchanges([-2, 5])  # one dated two days after `now`
    result = scoring.analyze(history, NOW)
    assert result.now == max(i.at for i in history)
    assert result.parts.activity > 0


def test_score__ties_on_time_are_deterministic() -> None:
    a = exchanges([0], prefix="a")
    b = [replace(i, message_id=i.message_id.replace("a-", "z-")) for i in a]
    assert scoring.analyze(a + b, NOW) == scoring.analyze(list(reversed(a + b)), NOW)


def test_score__an_answer_never_lowers_sustained_outreach() -> None:
    outreach = one_way(range(0, 60, 2), direction=Direction.SENT)
    answered = outreach + exchanges([1], prefix="r")
    assert scoring.analyze(answered, NOW).score >= scoring.analyze(outreach, NOW).score


def test_score__an_intense_relationship_months_ago_is_cold_not_gone() -> None:
    """The memory part of the decay: 25 exchanges ten months ago still rank above nothing."""
    old = scoring.analyze(exchanges([300 + k for k in range(25)]), NOW)
    recent = scoring.analyze(exchanges(range(25)), NOW)
    assert 1 <= old.score < recent.score / 3


def test_evidence__one_message_is_singular() -> None:
    once = scoring.analyze(one_way([3], direction=Direction.SENT), NOW)
    heard = scoring.analyze(one_way([3], direction=Direction.RECEIVED), NOW)
    assert "You wrote 1 time on 1 day and never got an answer" in once.evidence[0].text
    assert "1 message from them and none from you" in heard.evidence[0].text
