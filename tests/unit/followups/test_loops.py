"""Open-loop rules: a question put to the reader, a promise the writer made, in the message's
own text (not in quotes or signatures)."""

from __future__ import annotations

import pytest

from fluffymail.crm.followups import loops


@pytest.mark.parametrize(
    "body",
    [
        "Could you send me the pricing sheet before Friday? Thanks.",
        "Hi,\n\nWhen can we meet next week?\n\nBest",
        "Do you have the final numbers for Q3?",
        "Any update on the contract?",
    ],
)
def test_question_in__finds_questions_to_the_reader(body: str) -> None:
    assert loops.question_in(body) is not None


@pytest.mark.parametrize(
    "body",
    [
        "How are you?",
        "Thanks, that works for me.",
        "See below.\n\nOn Mon, 3 Jan 2026, Sam wrote:\n> Could you send the deck?",
        "Sounds good\n> Do you have the numbers?",
        "Fine.\n-----Original Message-----\nFrom: x\nCan you call me?",
        "Ok?",
    ],
)
def test_question_in__ignores_small_talk_quotes_and_stubs(body: str) -> None:
    assert loops.question_in(body) is None


def test_question_in__the_last_question_wins() -> None:
    body = "Can you join on Monday? Also, could you bring the slides?"
    assert loops.question_in(body) == "Also, could you bring the slides?"


@pytest.mark.parametrize(
    "sentence",
    [
        "I'll send you the revised budget on Monday.",
        "I will get back to you by Friday.",
        "Let me check with the team and confirm.",
        "We'll follow up next week with the numbers.",
        "I'm going to put together a proposal.",
    ],
)
def test_promise_in__recognises_commitments(sentence: str) -> None:
    assert loops.promise_in(f"Thanks for the call. {sentence}") == sentence


@pytest.mark.parametrize(
    "body",
    [
        "I will be out of the office until Monday.",
        "Can you send me the file? I'll wait.",
        "Let me know if you need anything.",
        "I'll send it if you still need it.",
        "Ok.\n\nOn Tue, Ada wrote:\n> I'll send you the deck tomorrow.",
    ],
)
def test_promise_in__ignores_what_is_not_a_promise(body: str) -> None:
    assert loops.promise_in(body) is None
