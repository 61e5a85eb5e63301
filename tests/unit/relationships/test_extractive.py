"""Offline extractive summaries on crafted threads: topics, open question, commitment, labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fluffymail.crm.relationships import extractive
from fluffymail.crm.relationships.models import Direction
from fluffymail.crm.relationships.summaries import (
    EXTRACTIVE,
    Person,
    SummaryRequest,
    Thread,
    ThreadMessage,
)

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
IN, OUT = Direction.RECEIVED, Direction.SENT


def msg(mid: str, day: int, direction: Direction, body: str, subject: str = "") -> ThreadMessage:
    return ThreadMessage(
        id=mid, date=NOW + timedelta(days=day), direction=direction, subject=subject, body=body
    )


def thread(tid: str, subject: str, *messages: ThreadMessage) -> Thread:
    return Thread(id=tid, subject=subject, messages=messages)


def request(*threads: Thread) -> SummaryRequest:
    return SummaryRequest(
        user=Person(email="kay.mann@enron.example", name="Kay Mann"),
        contact=Person(email="ben.jacoby@enron.example", name="Ben Jacoby"),
        threads=threads,
    )


TURBINES = thread(
    "t1",
    "Turbine delivery schedule",
    msg(
        "a1",
        0,
        IN,
        "Ben here. The turbine delivery moved to May. Can you confirm the site is ready?",
    ),
    msg("a2", 1, OUT, "Yes, the site is ready.\n\n> Can you confirm the site is ready?"),
)
CONTRACT = thread(
    "t2",
    "Turbine contract",
    msg("b1", 5, IN, "Attached is the turbine contract. Who signs for Enron? Thanks, Ben"),
    msg(
        "b2", 6, OUT, "I'll send the signed contract by Friday.\n\nOn Mon, Ben wrote:\n> Who signs?"
    ),
)
INVOICE = thread(
    "t3",
    "Invoice for turbine parts",
    msg("c1", 9, IN, "The turbine invoice is overdue. Could you check with accounting?\nBest, Ben"),
)


def test_extract__is_labelled_as_not_ai_and_costs_nothing() -> None:
    summary = extractive.extract(request(TURBINES, CONTRACT, INVOICE))
    assert summary.generated_by == EXTRACTIVE == "extractive (not AI)"
    assert summary.model == "extractive"
    assert summary.usage.total_tokens == 0
    assert summary.contact == "ben.jacoby@enron.example"


def test_topics__from_subjects_and_bodies_without_stopwords_or_names() -> None:
    found = extractive.topics(request(TURBINES, CONTRACT, INVOICE), 3)
    assert found[0] == "turbine"
    assert "contract" in found
    assert not {"ben", "kay", "the", "can", "thanks"} & set(found)


def test_open_question__the_latest_one_not_answered_later() -> None:
    m, text = extractive.open_question([TURBINES, CONTRACT, INVOICE])
    assert (m.id, text) == ("c1", "Could you check with accounting?")


def test_open_question__answered_questions_do_not_count() -> None:
    assert extractive.open_question([TURBINES, CONTRACT]) is None


def test_open_question__only_from_the_contact() -> None:
    mine = thread("t9", "Lunch", msg("d1", 0, OUT, "Lunch on Tuesday?"))
    assert extractive.open_question([mine]) is None


def test_last_commitment__latest_promise_from_either_side_ignoring_quotes() -> None:
    messages = [*TURBINES.messages, *CONTRACT.messages, *INVOICE.messages]
    m, text = extractive.last_commitment(messages)
    assert (m.id, text) == ("b2", "I'll send the signed contract by Friday.")


@pytest.mark.parametrize(
    "sentence",
    [
        "I will call you Monday.",
        "We will ship it next week.",
        "Let me check with legal.",
        "I’ll get the numbers.",
    ],
)
def test_last_commitment__recognises_the_usual_phrasings(sentence: str) -> None:
    m = msg("e1", 0, IN, f"Hello there. {sentence}")
    assert extractive.last_commitment([m]) == (m, sentence)


def test_extract__open_loops_next_step_and_citations() -> None:
    summary = extractive.extract(request(TURBINES, CONTRACT, INVOICE))
    assert summary.open_loops == (
        "They asked: “Could you check with accounting?” (unanswered)",
        "You said: “I'll send the signed contract by Friday.”",
    )
    assert summary.next_step == "Answer their question: “Could you check with accounting?”"
    assert summary.cited_message_ids == ("c1", "b2")
    assert "Latest thread: “Invoice for turbine parts”" in summary.discussed
    assert summary.who.startswith("Ben Jacoby <ben.jacoby@enron.example>; latest message ")
    assert "messages" not in summary.who  # the counts are the figures' (crm.contact_figures)


def test_extract__next_step_follows_your_own_promise_when_nothing_is_asked() -> None:
    summary = extractive.extract(request(TURBINES, CONTRACT))
    assert summary.next_step == "Follow through on: “I'll send the signed contract by Friday.”"


def test_extract__quiet_relationship_has_a_plain_next_step() -> None:
    summary = extractive.extract(request(thread("t", "Hi", msg("z1", 0, OUT, "Good to see you."))))
    assert summary.open_loops == ()
    assert summary.next_step == "Nothing pending; check in if the silence grows."


def test_extract__needs_messages() -> None:
    with pytest.raises(ValueError, match="no messages"):
        extractive.extract(request())


def test_own_text__drops_quoted_replies() -> None:
    body = "Sounds good.\n> old line\n-----Original Message-----\nFrom: x\nold text"
    assert extractive.own_text(body) == "Sounds good."


def test_topics__ignore_signatures_links_and_addresses() -> None:
    body = (
        "The turbine contract is ready for review.\n"
        "See https://www.example.com/docs and mail legal@example.com\n"
        "--\nBen Jacoby\nNorthwind Traders Inc.\nMobile: +1 206 555 0110\nhttps://www.northwind.example\n"
    )
    found = extractive.topics(
        request(thread("t9", "Contract", msg("m9", 0, Direction.RECEIVED, body))), 8
    )
    assert "contract" in found and "turbine" in found
    assert not {"https", "www", "northwind", "mobile", "inc", "legal", "docs"} & set(found)
