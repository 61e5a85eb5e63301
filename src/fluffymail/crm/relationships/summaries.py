"""AI relationship summaries as the CRM sees them: the request (the user's threads with one
contact), the `Summary` with its citations and usage, and the `SummaryProvider` port.

Pure data (stdlib and `crm.relationships.models`); providers live in `fluffymail.integrations.llm`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from fluffymail.crm.relationships.models import Direction

__all__ = [
    "EXTRACTIVE",
    "Person",
    "Summary",
    "SummaryProvider",
    "SummaryRequest",
    "Thread",
    "ThreadMessage",
    "Usage",
]

EXTRACTIVE = "extractive (not AI)"
"""`Summary.generated_by` of summaries made without a model."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    email: str
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadMessage:
    """One message of a thread; `direction` is seen from the user (sent by the user or received)."""

    id: str
    date: datetime
    direction: Direction
    subject: str = ""
    body: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Thread:
    id: str
    subject: str
    messages: tuple[ThreadMessage, ...]

    @property
    def last_date(self) -> datetime:
        return max(m.date for m in self.messages)


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRequest:
    """The user's threads with one contact; nothing else is ever sent to a provider."""

    user: Person
    contact: Person
    threads: tuple[Thread, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """Tokens spent (as the provider counted them) and requests made, for cost tracking."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            requests=self.requests + other.requests,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """A relationship summary citing the messages it drew from; `generated_by` says how it was made."""

    contact: str
    who: str
    discussed: str
    open_loops: tuple[str, ...]
    next_step: str
    cited_message_ids: tuple[str, ...]
    generated_by: str
    model: str
    prompt_version: str
    usage: Usage = field(default_factory=Usage)
    topics: tuple[str, ...] = ()


class SummaryProvider(Protocol):
    async def summarize(self, request: SummaryRequest) -> Summary:
        """Summarise one contact.

        Raises `llm.SummaryFailed` (store as a failed analysis), `llm.ProviderUnavailable`
        (retry) or `fluffymail.queue.outcomes.Snooze` (rate limited).
        """
        ...
