"""The `summarize-relationship` job through the OpenAI-compatible provider (the real `openai` SDK)
against the local chat-completions emulator: what is sent, stored and counted, and every
failure mode (429, 500, malformed JSON, invented citations, budget, privacy switches)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fluffymail.config import Settings
from fluffymail.crm.relationships.summaries import EXTRACTIVE
from fluffymail.integrations import llm
from tests.integration.llm import emulator as emu
from tests.integration.llm import summary_world
from tests.integration.llm.summary_world import (
    BEN,
    USER,
    Mail,
    World,
    ben_history,
    openai_provider,
)

emulator = summary_world.emulator  # fixture
world = summary_world.world  # fixture


@pytest.fixture
def ai(world: World, emulator: emu.ChatEmulator) -> World:
    world.provider = openai_provider(emulator)
    return world


def prompts(emulator: emu.ChatEmulator) -> list[str]:
    return [body["messages"][1]["content"] for _, body in emulator.requests]


async def test_openai__stores_the_structured_answer_with_citations_and_counts_usage(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())

    job = await ai.summarize(BEN)

    assert job["state"] == "completed" and job["output"]["status"] == "ok"
    stored = await ai.stored(BEN)
    assert stored is not None
    assert (stored["status"], stored["generated_by"], stored["prompt_version"]) == (
        "ok", "gpt-test", llm.PROMPT_VERSION,
    )  # fmt: skip
    summary = stored["summary"]
    assert summary["who"] == "A supplier the user buys turbines from."
    assert summary["open_loops"] == ["They asked for the signed contract."]
    assert summary["ai_generated"] is True and summary["model"] == "gpt-test"
    bens = {await ai.message_id(n) for n in (1, 2, 3)}
    assert summary["citations"] and set(summary["citations"]) <= bens
    found = await ai.one(
        "SELECT count(*) FROM crm.messages WHERE id = ANY(%s)", summary["citations"]
    )
    assert found == len(summary["citations"])
    # only Ben's threads with the user were sent
    [prompt] = prompts(emulator)
    assert sorted(emu.input_ids(emulator.requests[0][1])) == sorted(str(i) for i in bens)
    assert "CAROL-SECRET" not in prompt and "DAVE-THIRD-PARTY" not in prompt
    # usage: as the emulator counted it, in the summary row and the user's daily total
    assert stored["input_tokens"] > 0 and stored["output_tokens"] > 0
    assert await ai.usage() == (stored["input_tokens"] + stored["output_tokens"], 1)


async def test_openai__cache_hit_then_rerun_after_new_mail(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    await ai.summarize(BEN)
    tokens_after_first = await ai.usage()

    again = await ai.summarize(BEN)
    assert again["output"]["status"] == "skipped"
    assert len(emulator.requests) == 1 and await ai.usage() == tokens_after_first

    await ai.add_mail(
        [Mail(n=7, sender=BEN, to=USER, subject="Contract signed?", body="Did you sign it?",
              days_ago=1)]
    )  # fmt: skip
    rerun = await ai.summarize(BEN)
    assert rerun["output"]["status"] == "ok"
    assert len(emulator.requests) == 2
    assert str(await ai.message_id(7)) in emu.input_ids(emulator.requests[1][1])
    assert (await ai.usage())[1] == 2


async def test_openai__a_new_model_or_prompt_version_invalidates_the_cache(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    await ai.summarize(BEN)
    await ai.execute(
        "UPDATE crm.relationship_summaries SET prompt_version = 'relationship-summary/0'"
    )
    rerun = await ai.summarize(BEN)
    assert rerun["output"]["status"] == "ok" and len(emulator.requests) == 2


async def test_openai__429_snoozes_the_job_without_spending_an_attempt(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    emulator.push(emu.rate_limited("7"))

    job = await ai.summarize(BEN)

    assert job["state"] == "retry" and job["retry_count"] == 0
    outcomes = [a["outcome"] for a in await ai.queue.get_attempts(job["id"])]
    assert outcomes == ["snoozed"]
    assert await ai.stored(BEN) is None
    assert (await ai.usage())[0] == 0, "the reservation is given back"
    # every worker stops claiming summaries meanwhile: the API key is shared by all users
    assert await ai.one(
        "SELECT paused_until > now() + interval '6 seconds' FROM queue.queue"
        " WHERE name = 'summarize-relationship'"
    )
    # it runs again after Retry-After and succeeds
    await ai.execute("UPDATE queue.job SET start_after = now() WHERE id = %s", job["id"])
    await ai.execute("UPDATE queue.queue SET paused_until = now()")
    done = await ai.wait_job_state(job["id"], "completed")
    assert done["output"]["status"] == "ok"


async def test_openai__500_retries_with_backoff_then_succeeds(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    emulator.push(emu.server_error(500))

    job = await ai.summarize(BEN)

    assert job["state"] == "retry" and job["retry_count"] == 1
    assert job["start_after"] > datetime.now(UTC), "backoff, not an immediate retry"
    assert await ai.stored(BEN) is None and (await ai.usage())[0] == 0
    await ai.execute("UPDATE queue.job SET start_after = now() WHERE id = %s", job["id"])
    done = await ai.wait_job_state(job["id"], "completed")
    assert done["output"]["status"] == "ok"


async def test_openai__500_on_the_last_attempt_stores_a_failed_analysis(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    await ai.start()
    await ai.queue.create_queue("summarize-relationship", fair=True, retry_limit=0)
    emulator.push(emu.server_error(503))

    job = await ai.summarize(BEN)

    assert job["state"] == "completed" and job["output"]["status"] == "failed"
    stored = await ai.stored(BEN)
    assert stored is not None and stored["status"] == "failed"
    assert "failed (503)" in stored["error"]


async def test_openai__malformed_json_is_retried_once_then_stored_as_failed(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    emulator.push(emu.malformed(), emu.malformed())

    job = await ai.summarize(BEN)

    assert job["state"] == "completed", "an invalid answer completes the job, it does not crash it"
    assert job["output"]["status"] == "failed"
    assert len(emulator.requests) == 2
    stored = await ai.stored(BEN)
    assert stored is not None
    assert (stored["status"], stored["summary"]) == ("failed", None)
    assert "not JSON" in stored["error"]
    tokens, calls = await ai.usage()
    assert calls == 2 and tokens == stored["input_tokens"] + stored["output_tokens"] > 0


async def test_openai__malformed_then_good_is_stored_ok(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    emulator.push(emu.malformed(), emu.good())
    job = await ai.summarize(BEN)
    assert job["output"]["status"] == "ok" and len(emulator.requests) == 2
    assert (await ai.usage())[1] == 2


async def test_openai__a_hallucinated_citation_is_stored_as_failed_with_the_reason(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    emulator.push(emu.hallucinated(), emu.hallucinated())

    job = await ai.summarize(BEN)

    assert job["state"] == "completed" and job["output"]["status"] == "failed"
    stored = await ai.stored(BEN)
    assert stored is not None and stored["status"] == "failed"
    assert "not in the input" in stored["error"] and "<made-up@example.com>" in stored["error"]
    # a failed analysis is not retried until new mail arrives
    again = await ai.summarize(BEN)
    assert again["output"]["status"] == "skipped" and len(emulator.requests) == 2


async def test_openai__budget_spent_stores_offline_now_and_snoozes_until_midnight(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    ai.overrides["ai_daily_token_budget"] = 5000
    await ai.add_mail(ben_history())
    await ai.execute(
        "INSERT INTO crm.ai_usage (user_id, day, tokens, calls) VALUES (%s, %s, 4900, 9)",
        ai.user_id,
        ai.clock.now().date(),
    )

    job = await ai.summarize(BEN)

    assert emulator.requests == []
    assert job["state"] == "retry" and job["retry_count"] == 0
    # the job's clock says 12:00 UTC: it waits the 12 hours to the next UTC midnight
    assert abs((job["start_after"] - datetime.now(UTC)).total_seconds() - 12 * 3600) < 60
    stored = await ai.stored(BEN)
    assert stored is not None and (stored["status"], stored["generated_by"]) == ("ok", EXTRACTIVE)
    assert await ai.usage() == (4900, 9)


async def test_openai__a_request_larger_than_the_whole_budget_goes_offline_without_waiting(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    ai.overrides["ai_daily_token_budget"] = 100
    await ai.add_mail(ben_history())
    job = await ai.summarize(BEN)
    assert job["state"] == "completed" and emulator.requests == []
    assert "exceeds the daily budget" in job["output"]["note"]
    assert (await ai.stored(BEN) or {})["generated_by"] == EXTRACTIVE


async def test_openai__external_ai_off_sends_nothing(ai: World, emulator: emu.ChatEmulator) -> None:
    ai.overrides["external_ai"] = False
    await ai.add_mail(ben_history())
    job = await ai.summarize(BEN)
    assert job["output"]["status"] == "ok" and emulator.requests == []
    assert (await ai.stored(BEN) or {})["generated_by"] == EXTRACTIVE


async def test_openai__mail_only_in_metadata_connections_is_never_sent(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history(), visibility="metadata")
    job = await ai.summarize(BEN)
    assert job["output"]["status"] == "ok" and emulator.requests == []
    assert "private" in job["output"]["note"]
    assert (await ai.stored(BEN) or {})["generated_by"] == EXTRACTIVE


async def test_openai__private_messages_are_left_out_of_a_mixed_input(
    ai: World, emulator: emu.ChatEmulator
) -> None:
    await ai.add_mail(ben_history())
    await ai.add_mail(
        [Mail(n=8, sender=BEN, to=USER, subject="Salary", body="PRIVATE-BODY: my salary is",
              days_ago=1)],
        visibility="metadata",
    )  # fmt: skip
    job = await ai.summarize(BEN)
    assert job["output"]["status"] == "ok" and len(emulator.requests) == 1
    [prompt] = prompts(emulator)
    assert "PRIVATE-BODY" not in prompt and "Salary" not in prompt
    assert str(await ai.message_id(8)) not in emu.input_ids(emulator.requests[0][1])
    stored = await ai.stored(BEN)
    assert stored is not None and stored["last_message_at"] == await ai.one(
        "SELECT date FROM crm.messages WHERE id = %s", await ai.message_id(8)
    ), "the cache still covers the private message"


def test_provider_from_settings__offline_by_default_and_openai_on_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert llm.provider_from_settings(Settings(_env_file=None)) is None  # type: ignore[call-arg]
    with pytest.raises(llm.LLMError, match="OPENAI_API_KEY"):
        llm.provider_from_settings(Settings(_env_file=None, ai_provider="openai"))  # type: ignore[call-arg]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    settings = Settings(_env_file=None, ai_provider="openai", openai_model="m")  # type: ignore[call-arg]
    provider = llm.provider_from_settings(settings)
    assert provider is not None and provider.model == "m"
    off = Settings(_env_file=None, ai_provider="openai", external_ai=False)  # type: ignore[call-arg]
    assert llm.provider_from_settings(off) is None
    local = Settings(_env_file=None, ai_provider="openai", openai_base_url="http://127.0.0.1:9/v1")  # type: ignore[call-arg]
    monkeypatch.delenv("OPENAI_API_KEY")
    assert llm.provider_from_settings(local) is not None
