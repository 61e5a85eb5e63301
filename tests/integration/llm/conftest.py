"""The chat-completions emulator and providers pointed at it through the real `openai` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fluffymail.crm.relationships.models import Direction
from fluffymail.crm.relationships.summaries import Person, SummaryRequest, Thread, ThreadMessage
from fluffymail.integrations.llm import OpenAIProvider

from .emulator import ChatEmulator

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def message(
    mid: str, days_ago: float, direction: Direction, subject: str, body: str
) -> ThreadMessage:
    return ThreadMessage(
        id=mid, date=NOW - timedelta(days=days_ago), direction=direction, subject=subject, body=body
    )


def request_with(*threads: Thread) -> SummaryRequest:
    return SummaryRequest(
        user=Person(email="kay@fluffy.example", name="Kay Mann"),
        contact=Person(email="ben@turbines.example", name="Ben Jacoby"),
        threads=threads,
    )


@pytest.fixture
def request_() -> SummaryRequest:
    return request_with(
        Thread(
            id="t1",
            subject="Spring turbine contract",
            messages=(
                message(
                    "<m1@x>",
                    10,
                    Direction.RECEIVED,
                    "Spring turbine contract",
                    "Can you sign the contract by Friday?",
                ),
                message(
                    "<m2@x>",
                    9,
                    Direction.SENT,
                    "Re: Spring turbine contract",
                    "Yes, I'll send it tomorrow.",
                ),
            ),
        ),
        Thread(
            id="t2",
            subject="Delivery dates",
            messages=(
                message(
                    "<m3@x>", 40, Direction.RECEIVED, "Delivery dates", "Deliveries slip to May."
                ),
            ),
        ),
    )


@pytest.fixture
def emulator() -> Iterator[ChatEmulator]:
    server = ChatEmulator().start()
    yield server
    server.stop()


@pytest.fixture
async def make_provider(emulator: ChatEmulator) -> AsyncIterator[Callable[..., OpenAIProvider]]:
    made: list[OpenAIProvider] = []

    def make(**overrides: Any) -> OpenAIProvider:
        options: dict[str, Any] = {
            "api_key": "sk-test", "model": "gpt-test", "base_url": emulator.base_url, "timeout": 5.0,
            **overrides,
        }  # fmt: skip
        provider = OpenAIProvider(**options)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()
