"""The OpenAI-compatible provider through the real `openai` SDK against the local emulator."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from fluffymail.clock import FrozenClock
from fluffymail.crm.relationships.models import Direction
from fluffymail.crm.relationships.summaries import Summary, SummaryRequest, Thread
from fluffymail.integrations import llm
from fluffymail.integrations.llm import OpenAIProvider
from fluffymail.queue.outcomes import Snooze

from . import emulator as emu
from .conftest import NOW, message, request_with

Make = Callable[..., OpenAIProvider]


async def test_summarize__good_json_becomes_a_cited_summary_with_usage(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    summary = await make_provider().summarize(request_)

    assert isinstance(summary, Summary)
    assert summary.who == "A supplier the user buys turbines from."
    assert summary.open_loops == ("They asked for the signed contract.",)
    assert set(summary.cited_message_ids) <= {"<m1@x>", "<m2@x>", "<m3@x>"}
    assert summary.cited_message_ids
    assert (summary.generated_by, summary.model, summary.prompt_version) == (
        "ai",
        "gpt-test",
        llm.PROMPT_VERSION,
    )
    assert summary.usage.requests == 1
    assert (
        summary.usage.total_tokens
        == summary.usage.prompt_tokens + summary.usage.completion_tokens
        > 0
    )
    assert summary.contact == "ben@turbines.example"


async def test_summarize__sends_a_strict_json_schema_and_the_key(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    await make_provider().summarize(request_)

    [(headers, body)] = emulator.requests
    assert headers["authorization"] == "Bearer sk-test"
    assert body["model"] == "gpt-test"
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    prompt = body["messages"][1]["content"]
    assert "[<m1@x>]" in prompt and "Ben Jacoby <ben@turbines.example>" in prompt


async def test_summarize__429_with_retry_after_pauses_the_queue_without_sdk_retries(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.rate_limited("7"))
    with pytest.raises(Snooze) as caught:
        await make_provider().summarize(request_)
    assert (caught.value.seconds, caught.value.pause_queue) == (7.0, True)
    assert len(emulator.requests) == 1


async def test_summarize__429_with_an_http_date_uses_the_injected_clock(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.rate_limited("Thu, 01 Jan 2026 12:01:30 GMT"))
    with pytest.raises(Snooze) as caught:
        await make_provider(clock=FrozenClock(current=NOW)).summarize(request_)
    assert caught.value.seconds == 90.0


async def test_summarize__429_without_retry_after_snoozes_a_default(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.rate_limited(None))
    with pytest.raises(Snooze) as caught:
        await make_provider().summarize(request_)
    assert caught.value.seconds == llm.DEFAULT_RATE_LIMIT_SNOOZE and caught.value.pause_queue


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_summarize__5xx_is_a_transient_error_the_job_retries(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest, status: int
) -> None:
    emulator.push(emu.server_error(status))
    with pytest.raises(llm.ProviderUnavailable) as caught:
        await make_provider().summarize(request_)
    assert caught.value.status == status
    assert len(emulator.requests) == 1


async def test_summarize__a_timeout_is_transient(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.Reply(content=emu.good_summary, delay=1.0))
    with pytest.raises(llm.ProviderUnavailable, match="timed out"):
        await make_provider(timeout=0.2).summarize(request_)


async def test_summarize__an_unreachable_server_is_transient(
    make_provider: Make, request_: SummaryRequest
) -> None:
    with pytest.raises(llm.ProviderUnavailable, match="unreachable"):
        await make_provider(base_url="http://127.0.0.1:9/v1").summarize(request_)


async def test_summarize__a_refused_request_fails_the_summary(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(
        emu.Reply(status=401, error={"message": "bad key", "type": "invalid_request_error"})
    )
    with pytest.raises(llm.SummaryFailed, match=r"refused the request \(401\)"):
        await make_provider().summarize(request_)


async def test_summarize__malformed_json_is_retried_once_with_the_reason(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.malformed())
    summary = await make_provider().summarize(request_)

    assert summary.usage.requests == 2
    retry = emulator.requests[1][1]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert "not JSON" in retry[-1]["content"]


async def test_summarize__malformed_json_twice_fails_with_the_reason_and_usage(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.malformed(), emu.malformed())
    with pytest.raises(llm.SummaryFailed) as caught:
        await make_provider().summarize(request_)
    assert "not JSON" in caught.value.reason
    assert caught.value.usage.requests == 2 and caught.value.usage.total_tokens > 0
    assert len(emulator.requests) == 2


async def test_summarize__a_hallucinated_citation_is_retried_then_fails(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.hallucinated(), emu.hallucinated())
    with pytest.raises(llm.SummaryFailed) as caught:
        await make_provider().summarize(request_)
    assert "<made-up@example.com>" in caught.value.reason


async def test_summarize__a_hallucinated_citation_then_a_good_answer_succeeds(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.hallucinated())
    summary = await make_provider().summarize(request_)
    assert "<made-up@example.com>" not in summary.cited_message_ids
    assert "not in the input" in emulator.requests[1][1]["messages"][-1]["content"]


async def test_summarize__a_cut_off_answer_is_retried(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    emulator.push(emu.Reply(content='{"who": "A sup', finish_reason="length"))
    summary = await make_provider().summarize(request_)
    assert summary.usage.requests == 2
    assert "finish_reason=length" in emulator.requests[1][1]["messages"][-1]["content"]


async def test_summarize__wrong_shape_is_rejected(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    wrong = json.dumps({"who": "x", "discussed": "y", "open_loops": [], "next_step": "z"})
    emulator.push(emu.Reply(content=wrong), emu.Reply(content=wrong))
    with pytest.raises(llm.SummaryFailed, match="expected exactly the keys"):
        await make_provider().summarize(request_)


async def test_summarize__only_ids_that_fit_the_budget_may_be_cited(
    make_provider: Make, emulator: emu.ChatEmulator
) -> None:
    long = "word " * 400  # ~2,000 chars, ~500 tokens a message
    threads = tuple(
        Thread(
            id=f"t{n}",
            subject=f"Topic {n}",
            messages=(message(f"<n{n}@x>", n * 20, Direction.RECEIVED, f"Topic {n}", long),),
        )
        for n in range(10)
    )
    cite_oldest = json.dumps(
        {
            "who": "w",
            "discussed": "d",
            "open_loops": [],
            "next_step": "n",
            "cited_message_ids": ["<n9@x>"],
        }
    )
    emulator.push(emu.Reply(content=cite_oldest), emu.Reply(content=cite_oldest))
    with pytest.raises(llm.SummaryFailed, match="<n9@x>"):
        await make_provider(input_budget_tokens=1000).summarize(request_with(*threads))
    prompt = emulator.requests[0][1]["messages"][1]["content"]
    assert len(prompt) <= 1000 * llm.CHARS_PER_TOKEN
    assert "[<n0@x>]" in prompt and "[<n9@x>]" not in prompt


async def test_summarize__fails_without_calling_when_nothing_fits(
    make_provider: Make, emulator: emu.ChatEmulator, request_: SummaryRequest
) -> None:
    with pytest.raises(llm.SummaryFailed, match="no messages"):
        await make_provider(input_budget_tokens=10).summarize(request_)
    assert emulator.requests == []


async def test_emulator__rejects_requests_that_break_the_schema(emulator: emu.ChatEmulator) -> None:
    import openai

    client = openai.AsyncOpenAI(api_key="sk-test", base_url=emulator.base_url, max_retries=0)
    try:
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "hi"}],
                response_format={"type": "json_schema", "json_schema": {"name": "x", "strict": True,
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": []}}},
            )  # fmt: skip
    finally:
        await client.close()
