"""Prompt input within a token budget, answer validation, Retry-After parsing, offline provider."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from fluffymail.crm.relationships.models import Direction
from fluffymail.crm.relationships.summaries import SummaryRequest, Thread
from fluffymail.integrations import llm

from .conftest import message, request_with


def thread(tid: str, days_ago: float, *, two_way: bool, body: str = "Short note.") -> Thread:
    msgs = [message(f"<{tid}a>", days_ago, Direction.RECEIVED, tid, body)]
    if two_way:
        msgs.append(message(f"<{tid}b>", days_ago - 0.1, Direction.SENT, tid, body))
    return Thread(id=tid, subject=tid, messages=tuple(msgs))


def test_rank_threads__recent_first_and_two_way_above_one_way() -> None:
    ranked = llm.rank_threads(
        [
            thread("old", 400, two_way=True),
            thread("news", 1, two_way=False),
            thread("chat", 30, two_way=True),
        ]
    )
    assert [t.id for t in ranked] == ["chat", "news", "old"]


def test_build_input__stays_within_the_budget_and_lists_what_it_sent() -> None:
    long = "x" * 3000
    threads = [thread(f"t{n}", n * 10, two_way=True, body=long) for n in range(20)]
    prompt = llm.build_input(request_with(*threads), budget_tokens=2000, max_body_chars=1000)
    assert prompt.tokens <= 2000
    assert "<t0a>" in prompt.message_ids and "<t19a>" not in prompt.message_ids
    assert all(f"[{mid}]" in prompt.text for mid in prompt.message_ids)
    assert "x" * 1001 not in prompt.text and "…" in prompt.text


def test_build_input__a_long_thread_keeps_its_newest_messages() -> None:
    msgs = tuple(message(f"<m{n}>", 50 - n, Direction.RECEIVED, "s", "y" * 800) for n in range(10))
    prompt = llm.build_input(
        request_with(Thread(id="t", subject="s", messages=msgs)), budget_tokens=700
    )
    assert "<m9>" in prompt.message_ids and "<m0>" not in prompt.message_ids
    assert prompt.text.index("[<m8>]") < prompt.text.index("[<m9>]")  # still chronological


def test_build_input__leaves_quoted_text_out() -> None:
    body = "New point.\n> quoted old point"
    prompt = llm.build_input(
        request_with(thread("t", 1, two_way=False, body=body)), budget_tokens=500
    )
    assert "New point." in prompt.text and "quoted old point" not in prompt.text


VALID = {
    "who": "w",
    "discussed": "d",
    "open_loops": ["o"],
    "next_step": "n",
    "cited_message_ids": ["<a>"],
}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "not JSON"),
        ("[]", "not a JSON object"),
        (json.dumps({**VALID, "extra": 1}), "expected exactly the keys"),
        (json.dumps({**VALID, "who": ""}), "non-empty strings"),
        (json.dumps({**VALID, "open_loops": [1]}), "arrays of strings"),
        (json.dumps({**VALID, "cited_message_ids": []}), "is empty"),
        (json.dumps({**VALID, "cited_message_ids": ["<a>", "<zz>"]}), "not in the input: <zz>"),
    ],
)
def test_parse_summary__rejects(content: str | None, reason: str) -> None:
    with pytest.raises(llm.InvalidSummary, match=reason):
        llm.parse_summary(content, frozenset({"<a>"}))


def test_parse_summary__accepts_a_valid_answer() -> None:
    assert llm.parse_summary(json.dumps(VALID), frozenset({"<a>", "<b>"})) == VALID


def test_response_format__is_strict_and_requires_every_property() -> None:
    schema = llm.response_format()["json_schema"]
    assert schema["strict"] is True
    assert set(schema["schema"]["required"]) == set(schema["schema"]["properties"])


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "12"}, 12.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "2500", "retry-after": "9"}, 2.5),
        ({"retry-after": "Thu, 01 Jan 2026 00:00:20 GMT"}, 20.0),
        ({"retry-after": "Wed, 31 Dec 2025 23:00:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after__seconds_milliseconds_and_http_dates(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert llm.retry_after(headers, datetime(2026, 1, 1, tzinfo=UTC)) == seconds


async def test_extractive_provider__summarises_offline(request_: SummaryRequest) -> None:
    summary = await llm.ExtractiveProvider().summarize(request_)
    assert summary.generated_by == "extractive (not AI)"
    assert "contract" in summary.topics
    assert set(summary.cited_message_ids) <= {"<m1@x>", "<m2@x>", "<m3@x>"}
    assert summary.open_loops == ("You said: “Yes, I'll send it tomorrow.”",)


async def test_extractive_provider__no_messages_is_a_failed_summary() -> None:
    with pytest.raises(llm.SummaryFailed, match="no messages"):
        await llm.ExtractiveProvider().summarize(request_with())
