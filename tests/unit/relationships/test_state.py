"""The incremental `RelationshipState` agrees with the full scan, in any batches and order."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from fluffymail.crm.relationships import scoring
from fluffymail.crm.relationships.models import Direction, Interaction, Kind, RelationshipScore
from fluffymail.crm.relationships.state import RelationshipState

from .conftest import NOW


def random_history(seed: int, size: int) -> list[Interaction]:
    rng = random.Random(seed)
    out = []
    for n in range(size):
        reply = rng.random() < 0.4
        out.append(
            Interaction(
                at=NOW - timedelta(days=rng.uniform(0, 900) ** rng.choice([1, 0.8])),
                direction=rng.choice(list(Direction)),
                kind=Kind.CC if rng.random() < 0.2 else Kind.DIRECT,
                thread_id=f"t{rng.randrange(size // 3 + 1)}",
                message_id=f"m{n}",
                is_reply=reply,
                reply_latency=timedelta(minutes=rng.uniform(1, 5000))
                if reply and rng.random() < 0.9
                else None,
            )
        )
    return out


def fold(history: list[Interaction], seed: int) -> RelationshipState:
    rng = random.Random(seed)
    shuffled = history[:]
    rng.shuffle(shuffled)
    state = RelationshipState()
    while shuffled:
        cut = rng.randint(1, 40)
        state, shuffled = state.update(shuffled[:cut]), shuffled[cut:]
    return state


def assert_same(incremental: RelationshipScore, full: RelationshipScore) -> None:
    assert incremental.score == pytest.approx(full.score, abs=0.1)
    assert incremental.parts.activity == pytest.approx(full.parts.activity, rel=1e-9)
    assert (incremental.level, incremental.trend, incremental.going_cold) == (
        full.level,
        full.trend,
        full.going_cold,
    )
    assert incremental.usual_gap_days == full.usual_gap_days
    assert incremental.stats == full.stats
    assert incremental.evidence == full.evidence


@pytest.mark.parametrize("seed", range(8))
def test_state__incremental_equals_full_in_any_batches_and_order(seed: int) -> None:
    history = random_history(seed, 300)
    state = fold(history, seed)
    for later in (0, 1, 30, 400):
        now = NOW + timedelta(days=later)
        assert_same(state.score(now), scoring.analyze(history, now))


def test_state__old_messages_arriving_late_are_folded_in_exactly() -> None:
    history = random_history(99, 200)
    newest_first = sorted(history, key=lambda i: i.at, reverse=True)
    state = RelationshipState()
    for start in range(0, len(newest_first), 25):  # a first sync walks back in time
        state = state.update(newest_first[start : start + 25])
    assert_same(state.score(NOW), scoring.analyze(history, NOW))


def test_state__stays_compact() -> None:
    history = random_history(7, 3000)
    state = fold(history, 7)
    assert len(state.replies_sent) <= scoring.REPLY_WINDOW
    assert len(state.tally.days) < 400  # two trend periods plus the rhythm window, not 900 days
    assert len(json.dumps(state.to_json())) < 60_000


def test_state__json_round_trip() -> None:
    history = random_history(3, 150)
    state = fold(history, 3)
    restored = RelationshipState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored == state
    more = random_history(4, 20)
    assert restored.update(more).score(NOW) == state.update(more).score(NOW)


def test_state__empty_update_is_a_no_op_and_empty_state_scores_zero() -> None:
    state = RelationshipState()
    assert state.update([]) is state
    assert state.score(NOW) == scoring.analyze([], NOW)


def test_state__counts_the_days_the_user_wrote_across_batches_and_json() -> None:
    outreach = [
        Interaction(
            at=NOW - timedelta(days=d // 2), direction=Direction.SENT, kind=Kind.DIRECT,
            thread_id=f"t{d}", message_id=f"m{d}",
        )
        for d in range(40)
    ]  # fmt: skip
    state = fold(outreach, seed=7)
    again = RelationshipState.from_json(json.loads(json.dumps(state.to_json())))
    assert state.tally.sent_days == again.tally.sent_days == 20
    assert_same(again.score(NOW), scoring.analyze(outreach, NOW))
    assert_same(again.update(outreach[:0]).score(NOW), scoring.analyze(outreach, NOW))
