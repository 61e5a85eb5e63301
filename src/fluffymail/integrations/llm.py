"""AI relationship summaries: an OpenAI-compatible `SummaryProvider` (the `openai` SDK: OpenAI,
Azure, Ollama, vLLM, llama.cpp servers) and the offline extractive one (no network, no model).

Imports the leaves, crm models and `fluffymail.queue.outcomes` (a 429 becomes a `Snooze`).
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fluffymail.clock import Clock, SystemClock
from fluffymail.config import Settings
from fluffymail.crm.relationships import extractive, summaries
from fluffymail.crm.relationships.models import Direction
from fluffymail.errors import FluffyMailError
from fluffymail.queue.outcomes import Snooze

if TYPE_CHECKING:  # see _openai()
    import openai

__all__ = [
    "EXTRACTIVE_VERSION",
    "PROMPT_VERSION",
    "ExtractiveProvider",
    "LLMError",
    "OpenAIProvider",
    "PromptInput",
    "ProviderUnavailable",
    "SummaryFailed",
    "build_input",
    "parse_summary",
    "provider_from_settings",
]

PROMPT_VERSION = "relationship-summary/1"
EXTRACTIVE_VERSION = "extractive/3"  # the prompt_version `extractive.extract` stamps
CHARS_PER_TOKEN = 4
DEFAULT_RATE_LIMIT_SNOOZE = 30.0
RECENCY_HALF_LIFE_DAYS = 90.0
SYSTEM_PROMPT = (
    "You summarise the relationship between a user and one of their email contacts for a CRM. "
    "Use only the email excerpts given; each message starts with its id in square brackets. "
    "Answer in JSON with: who (who the contact is to the user, one sentence), discussed (what "
    "they discussed, one or two sentences), open_loops (unanswered questions or unkept promises, "
    "short items, may be empty), next_step (one concrete suggestion for the user) and "
    "cited_message_ids (the ids of the messages you drew from; only ids that appear in the input). "
    "Do not count messages or threads: the input is only the latest part of the mail, and the "
    "CRM shows the counts itself."
)


class LLMError(FluffyMailError):
    """The AI provider failed."""


class SummaryFailed(LLMError):
    """No valid summary for this request; store it as a failed analysis with `reason`.

    `usage` counts the tokens spent on the failed attempts, for cost tracking.
    """

    def __init__(self, reason: str, *, usage: summaries.Usage | None = None) -> None:
        super().__init__(f"summary failed: {reason}")
        self.reason = reason
        self.usage = usage or summaries.Usage()


class ProviderUnavailable(LLMError):
    """The AI provider timed out, was unreachable or failed on its side; retry the job later."""

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# --- input within a token budget ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptInput:
    """The text sent to the model and the message ids in it (the only ids it may cite)."""

    text: str
    message_ids: frozenset[str]
    tokens: int


def rough_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def rank_threads(threads: Iterable[summaries.Thread]) -> list[summaries.Thread]:
    """Most relevant first: recency (90-day half-life from the newest message) × 2 if two-way."""
    usable = [t for t in threads if t.messages]
    if not usable:
        return []
    newest = max(t.last_date for t in usable)

    def relevance(t: summaries.Thread) -> float:
        age = (newest - t.last_date).total_seconds() / 86_400
        two_way = len({m.direction for m in t.messages}) == 2
        return math.pow(2.0, -age / RECENCY_HALF_LIFE_DAYS) * (2.0 if two_way else 1.0)

    return sorted(usable, key=lambda t: (-relevance(t), -t.last_date.timestamp(), t.id))


def render_message(m: summaries.ThreadMessage, max_body_chars: int) -> str:
    who = "user" if m.direction is Direction.SENT else "contact"
    body = extractive.own_text(m.body)
    if len(body) > max_body_chars:
        body = body[:max_body_chars].rstrip() + " …"
    return f"[{m.id}] {m.date:%Y-%m-%d %H:%M} from {who}: {m.subject}\n{body}\n"


def build_input(
    request: summaries.SummaryRequest, budget_tokens: int, max_body_chars: int = 1200
) -> PromptInput:
    """The prompt text: the most relevant threads that fit `budget_tokens` (chars / 4).

    A thread that does not fit whole contributes its newest messages that do.
    """
    parts = [f"User: {request.user.label}\nContact: {request.contact.label}\n"]
    budget = budget_tokens * CHARS_PER_TOKEN - len(parts[0])
    ids: set[str] = set()
    for thread in rank_threads(request.threads):
        header = f"\n## Thread: {thread.subject}\n"
        rendered = [
            (m.id, render_message(m, max_body_chars))
            for m in sorted(thread.messages, key=lambda m: m.date)
        ]
        while rendered and len(header) + sum(len(r) for _, r in rendered) > budget:
            rendered.pop(0)  # drop the oldest message first
        if not rendered:
            continue
        parts.append(header + "".join(r for _, r in rendered))
        budget -= len(parts[-1])
        ids.update(i for i, _ in rendered)
    text = "".join(parts)
    return PromptInput(text=text, message_ids=frozenset(ids), tokens=rough_tokens(text))


# --- structured output ----------------------------------------------------------------------------

_TEXT_FIELDS = ("who", "discussed", "next_step")
_LIST_FIELDS = ("open_loops", "cited_message_ids")


def summary_schema() -> dict[str, Any]:
    """The JSON schema of a summary (strict mode: every key required, nothing else allowed)."""
    text = {"type": "string"}
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "properties": {**{k: text for k in _TEXT_FIELDS}, **{k: strings for k in _LIST_FIELDS}},
        "required": [*_TEXT_FIELDS, *_LIST_FIELDS],
        "additionalProperties": False,
    }


def response_format() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "relationship_summary", "strict": True, "schema": summary_schema()},
    }


class InvalidSummary(ValueError):
    """The model's answer is not a valid summary; `reason` is told to the model on the retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_summary(content: str | None, allowed_ids: frozenset[str]) -> dict[str, Any]:
    """The answer as a dict matching `summary_schema`, citing only `allowed_ids` (at least one)."""
    try:
        data = json.loads(content or "")
    except json.JSONDecodeError as exc:
        raise InvalidSummary(f"the content is not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise InvalidSummary("the content is not a JSON object")
    if set(data) != {*_TEXT_FIELDS, *_LIST_FIELDS}:
        raise InvalidSummary(f"expected exactly the keys {sorted(summary_schema()['required'])}")
    if not all(isinstance(data[k], str) and data[k].strip() for k in _TEXT_FIELDS):
        raise InvalidSummary(f"{', '.join(_TEXT_FIELDS)} must be non-empty strings")
    if not all(
        isinstance(data[k], list) and all(isinstance(v, str) for v in data[k]) for k in _LIST_FIELDS
    ):
        raise InvalidSummary(f"{', '.join(_LIST_FIELDS)} must be arrays of strings")
    if not data["cited_message_ids"]:
        raise InvalidSummary("cited_message_ids is empty")
    if unknown := sorted(set(data["cited_message_ids"]) - allowed_ids):
        raise InvalidSummary(f"cited message ids that are not in the input: {', '.join(unknown)}")
    return data


# --- OpenAI-compatible provider -------------------------------------------------------------------


def _openai() -> Any:
    """The `openai` SDK, imported on first use: it costs ~2 s, which only the OpenAI path pays."""
    import openai

    return openai


class OpenAIProvider:
    """Summaries from any chat-completions server through the `openai` SDK, with structured output.

    The SDK's own retries are off (`max_retries=0`): a 429 becomes `Snooze(retry_after,
    pause_queue=True)`, so every worker stops claiming summaries until then (the API key and its
    rate limit are shared by every user's jobs), timeouts and 5xx become
    `ProviderUnavailable` (the job retries), and an invalid answer is retried once, then
    `SummaryFailed`.
    """

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 60.0,
        input_budget_tokens: int = 6000,
        max_output_tokens: int = 800,
        client: openai.AsyncOpenAI | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.model = model
        self.prompt_version = PROMPT_VERSION
        self.input_budget_tokens = input_budget_tokens
        self.max_output_tokens = max_output_tokens
        self._clock = clock or SystemClock()
        self._client = client or _openai().AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def summarize(self, request: summaries.SummaryRequest) -> summaries.Summary:
        """One summary: build the input, ask, validate; one corrective retry on an invalid answer."""
        prompt = build_input(request, self.input_budget_tokens)
        if not prompt.message_ids:
            raise SummaryFailed("no messages fit the input budget")
        messages: list[dict[str, str]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": prompt.text},
        ]
        usage, reason = summaries.Usage(), ""
        for _attempt in range(2):
            completion = await self._complete(messages)
            usage += usage_of(completion)
            content, reason = answer_of(completion)
            if not reason:
                try:
                    return self._summary(request, parse_summary(content, prompt.message_ids), usage)
                except InvalidSummary as exc:
                    reason = exc.reason
            messages += [
                {"role": "assistant", "content": content or ""},
                {"role": "user", "content": f"That answer was invalid: {reason}. Answer again."},
            ]
        raise SummaryFailed(reason, usage=usage)

    async def _complete(self, messages: list[dict[str, str]]) -> Any:
        openai = _openai()
        try:
            return await self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                response_format=response_format(),  # type: ignore[arg-type]
                max_completion_tokens=self.max_output_tokens,
            )
        except openai.RateLimitError as exc:
            raise self._rate_limited(exc) from exc
        except openai.APITimeoutError as exc:
            raise ProviderUnavailable("the AI provider timed out") from exc
        except openai.APIConnectionError as exc:
            raise ProviderUnavailable("the AI provider is unreachable") from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500 or exc.status_code in (408, 409):
                raise ProviderUnavailable(
                    f"the AI provider failed ({exc.status_code})", status=exc.status_code
                ) from exc
            raise SummaryFailed(f"the AI provider refused the request ({exc.status_code})") from exc

    def _rate_limited(self, exc: openai.RateLimitError) -> Exception:
        if getattr(exc, "code", None) == "insufficient_quota":  # billing, not throttling
            return ProviderUnavailable("the AI provider's quota is exhausted", status=429)
        wait = retry_after(exc.response.headers, self._clock.now())
        return Snooze(DEFAULT_RATE_LIMIT_SNOOZE if wait is None else wait, pause_queue=True)

    def _summary(
        self, request: summaries.SummaryRequest, data: Mapping[str, Any], usage: summaries.Usage
    ) -> summaries.Summary:
        return summaries.Summary(
            contact=request.contact.email,
            who=data["who"].strip(),
            discussed=data["discussed"].strip(),
            open_loops=tuple(s.strip() for s in data["open_loops"] if s.strip()),
            next_step=data["next_step"].strip(),
            cited_message_ids=tuple(dict.fromkeys(data["cited_message_ids"])),
            generated_by="ai",
            model=self.model,
            prompt_version=PROMPT_VERSION,
            usage=usage,
        )


def answer_of(completion: Any) -> tuple[str | None, str]:
    """(content, reason it is unusable or "")."""
    if not completion.choices:
        return None, "the response has no choices"
    choice = completion.choices[0]
    if getattr(choice.message, "refusal", None):
        return None, f"the model refused: {choice.message.refusal}"
    if choice.finish_reason == "length":
        return choice.message.content, "the answer was cut off (finish_reason=length)"
    return choice.message.content, ""


def usage_of(completion: Any) -> summaries.Usage:
    u = completion.usage
    if u is None:
        return summaries.Usage(requests=1)
    return summaries.Usage(
        prompt_tokens=u.prompt_tokens or 0,
        completion_tokens=u.completion_tokens or 0,
        total_tokens=u.total_tokens or 0,
        requests=1,
    )


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` (seconds or an HTTP date)."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name) or "")
        except ValueError:
            continue
        if math.isfinite(value):
            return max(value / divisor, 0.0)
    if raw := headers.get("retry-after"):
        try:
            return max((email.utils.parsedate_to_datetime(raw) - now).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None
    return None


# --- offline extractive provider ------------------------------------------------------------------


class ExtractiveProvider:
    """Offline summaries made from the threads themselves (`crm.relationships.extractive`): no
    network and no model, `generated_by="extractive (not AI)"`. The quickstart default."""

    generated_by = summaries.EXTRACTIVE
    prompt_version = EXTRACTIVE_VERSION

    def __init__(self, *, top_topics: int = 5) -> None:
        self.top_topics = top_topics

    async def summarize(self, request: summaries.SummaryRequest) -> summaries.Summary:
        if not any(t.messages for t in request.threads):
            raise SummaryFailed("no messages to summarise")
        return extractive.extract(request, self.top_topics)


# --- choice from settings -------------------------------------------------------------------------


def provider_from_settings(settings: Settings, clock: Clock | None = None) -> OpenAIProvider | None:
    """The external provider the settings ask for, or None (offline only).

    None unless `ai_provider` is "openai" and `external_ai` is on. A local server
    (`openai_base_url` set) may do without an API key; OpenAI itself may not.
    """
    if settings.ai_provider != "openai" or not settings.external_ai:
        return None
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key:
        if not settings.openai_base_url:
            raise LLMError(
                "FLUFFYMAIL_AI_PROVIDER=openai needs FLUFFYMAIL_OPENAI_API_KEY (or OPENAI_API_KEY), "
                "or FLUFFYMAIL_OPENAI_BASE_URL for a local server that needs no key"
            )
        key = "no-key"  # the SDK insists on one; local servers ignore it
    return OpenAIProvider(
        api_key=key,
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        timeout=settings.ai_timeout,
        input_budget_tokens=settings.ai_input_token_budget,
        clock=clock,
    )
