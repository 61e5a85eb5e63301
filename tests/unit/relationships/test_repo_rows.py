"""The row shapes the relationships repo stores and reads, without a database."""

from __future__ import annotations

import json
from datetime import timedelta

from fluffymail.crm.relationships import repo, scoring
from fluffymail.crm.relationships.models import Direction, Kind
from fluffymail.crm.relationships.state import RelationshipState

from .conftest import NOW, exchanges


def test_interaction__from_a_stream_row() -> None:
    row = (7, 42, NOW, True, False, 9, True, 3600.0)
    interaction = repo._interaction(row)
    assert interaction.direction is Direction.SENT and interaction.kind is Kind.CC
    assert (interaction.thread_id, interaction.message_id) == ("9", "42")
    assert interaction.is_reply and interaction.reply_latency == timedelta(hours=1)
    received = repo._interaction((7, 43, NOW, False, True, -43, False, None))
    assert received.direction is Direction.RECEIVED and received.kind is Kind.DIRECT
    assert received.reply_latency is None and received.thread_id == "-43"


def test_score_columns__json_ready_with_evidence_and_stats() -> None:
    history = exchanges([3, 10, 20, 40])
    score = scoring.analyze(history, NOW)
    columns = repo.score_columns(score)
    assert json.loads(json.dumps(columns)) == columns
    assert columns["level"] == str(score.level) and columns["score"] == score.score
    assert columns["evidence"][0]["message_ids"] == list(score.evidence[0].message_ids)
    stats = columns["stats"]
    assert (stats["sent"], stats["received"], stats["two_way_threads"]) == (4, 4, 4)
    assert stats["median_reply_sent_seconds"] == 4 * 3600
    assert stats["parts"]["reciprocity"] == score.parts.reciprocity
    assert stats["as_of"] == NOW.isoformat()


def test_state_round_trip__what_a_run_stores_recomposes_the_same_score() -> None:
    state = RelationshipState().update(exchanges([1, 5, 9]))
    stored = json.loads(repo._dumps(state.to_json()))
    again = repo._state(stored)
    assert repo.score_columns(again.score(NOW)) == repo.score_columns(state.score(NOW))
    assert repo._state({}) == RelationshipState()
