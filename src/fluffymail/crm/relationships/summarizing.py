"""Relationship summaries from the database: which engine may run (privacy, external AI switch,
daily token budget), the request built from only this contact's threads with the user, the cache
rule, and storing the result. The provider call itself is the caller's (the job's).

Imports the leaves and crm only; providers arrive as `SummaryProvider`s wrapped in `Engine`s.

Over the daily token budget, the contact gets the offline extractive summary now (stored,
labelled not AI) and `Plan.ai_deferred_until` says when the AI may try again (the next UTC
midnight): the job snoozes until then, so the budget spreads the AI summaries over days
instead of dropping them. A single request larger than the whole budget never waits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from fluffymail.crm.relationships import summary_repo as repo
from fluffymail.crm.relationships.models import Direction
from fluffymail.crm.relationships.summaries import (
    EXTRACTIVE,
    Person,
    Summary,
    SummaryProvider,
    SummaryRequest,
    Thread,
    ThreadMessage,
    Usage,
)

__all__ = [
    "Engine",
    "Plan",
    "Policy",
    "build_request",
    "is_current",
    "prepare",
    "release",
    "store_failure",
    "store_summary",
]

CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Engine:
    """A provider with the labels its summaries are stored and cached under."""

    provider: SummaryProvider
    generated_by: str  # the model name, or summaries.EXTRACTIVE
    prompt_version: str
    external: bool  # mail leaves FluffyMail: privacy rules and the token budget apply
    max_output_tokens: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Limits of one summary: the daily AI tokens per user and the size of the input."""

    daily_token_budget: int
    input_token_budget: int
    max_messages: int = 200
    max_body_chars: int = 4000


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What to do for one (user, contact): run `engine` on `request`, or skip (`skip_reason`)."""

    user_id: int
    contact_id: int
    engine: Engine | None = None
    request: SummaryRequest | None = None
    newest: datetime | None = None
    reservation: repo.Reservation | None = None
    skip_reason: str = ""
    note: str = ""  # why the offline engine runs instead of the external one
    ai_deferred_until: datetime | None = None


async def prepare(
    conn: repo.Conn,
    *,
    user_id: int,
    contact_id: int,
    external: Engine | None,
    offline: Engine,
    policy: Policy,
    now: datetime,
) -> Plan:
    """Decide the engine and build the request; reserves budget tokens for an external call."""
    plan = Plan(user_id=user_id, contact_id=contact_id)
    contact = await repo.get_contact(conn, user_id, contact_id)
    if contact is None:
        return replace(plan, skip_reason="no such contact for this user")
    if contact.merged_into_id is not None:
        return replace(plan, skip_reason=f"merged into contact {contact.merged_into_id}")
    newest = await repo.newest_message(conn, user_id, contact_id)
    if newest is None:
        return replace(plan, skip_reason="no mail between the user and this contact")
    plan = replace(plan, newest=newest)
    stored = await repo.get_summary(conn, user_id, contact_id)
    if policy.daily_token_budget <= 0:
        external = None
    if is_current(stored, external or offline, newest):
        return replace(plan, skip_reason="up to date: no new mail since the stored summary")
    rows = await repo.load_messages(
        conn,
        user_id,
        contact_id,
        max_chars=policy.input_token_budget * CHARS_PER_TOKEN * 2,
        max_messages=policy.max_messages,
        max_body_chars=policy.max_body_chars,
    )
    people = (Person(email=contact.user_email, name=contact.user_name),)
    people += (Person(email=contact.primary_address, name=contact.name),)
    if external is not None:
        shared = [r for r in rows if not r.private]
        if shared:
            request = build_request(people[0], people[1], shared)
            return await _reserve(conn, plan, stored, request, external, offline, policy, now)
        plan = replace(plan, note="all its mail is in connections that keep bodies private")
    return _offline(plan, stored, build_request(people[0], people[1], rows), offline)


async def _reserve(
    conn: repo.Conn,
    plan: Plan,
    stored: repo.StoredSummary | None,
    request: SummaryRequest,
    external: Engine,
    offline: Engine,
    policy: Policy,
    now: datetime,
) -> Plan:
    """Hold the external call's estimated tokens, or fall back to offline (deferring the AI)."""
    estimate = estimate_tokens(request, policy.input_token_budget) + external.max_output_tokens
    day = now.astimezone(UTC).date()
    held = await repo.reserve_tokens(conn, plan.user_id, day, estimate, policy.daily_token_budget)
    if held is not None:
        return replace(plan, engine=external, request=request, reservation=held)
    if estimate > policy.daily_token_budget:
        plan = replace(plan, note=f"one request ({estimate} tokens) exceeds the daily budget")
        return _offline(plan, stored, request, offline)
    tomorrow = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    plan = replace(plan, note="daily AI token budget spent", ai_deferred_until=tomorrow)
    return _offline(plan, stored, request, offline)


def _offline(
    plan: Plan, stored: repo.StoredSummary | None, request: SummaryRequest, offline: Engine
) -> Plan:
    if plan.newest is not None and is_current(stored, offline, plan.newest):
        return replace(plan, skip_reason="up to date: no new mail since the stored summary")
    return replace(plan, engine=offline, request=request)


def is_current(stored: repo.StoredSummary | None, engine: Engine, newest: datetime) -> bool:
    """Made by this engine and prompt version, and no mail newer than what it covered
    (a failed one too: it is not retried until new mail arrives)."""
    return (
        stored is not None
        and stored.generated_by == engine.generated_by
        and stored.prompt_version == engine.prompt_version
        and stored.last_message_at is not None
        and stored.last_message_at >= newest
    )


def estimate_tokens(request: SummaryRequest, input_budget: int) -> int:
    """The prompt's tokens at most: the request's text (chars / 4) capped by the input budget."""
    chars = sum(len(m.subject) + len(m.body) + 80 for t in request.threads for m in t.messages)
    return min(math.ceil(chars / CHARS_PER_TOKEN), input_budget) + 200  # + instructions


def build_request(user: Person, contact: Person, rows: Sequence[repo.MessageRow]) -> SummaryRequest:
    """The rows grouped into threads (by thread id; a message without one is its own thread)."""
    grouped: dict[str, list[repo.MessageRow]] = {}
    for row in rows:
        key = f"t{row.thread_id}" if row.thread_id is not None else f"m{row.id}"
        grouped.setdefault(key, []).append(row)
    threads = tuple(
        Thread(
            id=key,
            subject=members[-1].thread_subject,
            messages=tuple(_message(r) for r in sorted(members, key=lambda r: (r.sent_on, r.id))),
        )
        for key, members in grouped.items()
    )
    return SummaryRequest(user=user, contact=contact, threads=threads)


def _message(row: repo.MessageRow) -> ThreadMessage:
    return ThreadMessage(
        id=str(row.id),
        date=row.sent_on,
        direction=Direction.RECEIVED if row.from_contact else Direction.SENT,
        subject=row.subject,
        body=row.body,
    )


async def store_summary(conn: repo.Conn, plan: Plan, summary: Summary, now: datetime) -> str:
    """Store an answer and settle the budget; returns the status stored ('ok' or 'failed').

    Citations are checked against the request once more, whatever the provider did.
    """
    assert plan.engine is not None and plan.request is not None
    input_ids = {m.id for t in plan.request.threads for m in t.messages}
    if unknown := sorted(set(summary.cited_message_ids) - input_ids):
        reason = f"cited message ids that are not in the input: {', '.join(unknown)}"
        await store_failure(conn, plan, reason, summary.usage, now)
        return "failed"
    await repo.upsert_summary(
        conn, _record(plan, now, "ok", summary_json(summary), None, summary.usage)
    )
    await _settle(conn, plan, summary.usage)
    return "ok"


async def store_failure(
    conn: repo.Conn, plan: Plan, reason: str, usage: Usage, now: datetime
) -> None:
    """Store the failed analysis with its reason (replacing any older summary); settle."""
    await repo.upsert_summary(conn, _record(plan, now, "failed", None, reason, usage))
    await _settle(conn, plan, usage)


async def release(conn: repo.Conn, plan: Plan) -> None:
    """Give back the reserved tokens of a call that did not happen (or must be retried)."""
    if plan.reservation is not None:
        await repo.settle_tokens(conn, plan.reservation, spent=0, calls=0)


async def _settle(conn: repo.Conn, plan: Plan, usage: Usage) -> None:
    if plan.reservation is not None:
        spent = usage.total_tokens or usage.prompt_tokens + usage.completion_tokens
        await repo.settle_tokens(conn, plan.reservation, spent=spent, calls=usage.requests)


def summary_json(summary: Summary) -> dict[str, Any]:
    """The stored form: the answer, citations as crm.messages ids, and how it was made."""
    return {
        "who": summary.who,
        "discussed": summary.discussed,
        "open_loops": list(summary.open_loops),
        "next_step": summary.next_step,
        "citations": [int(i) for i in summary.cited_message_ids],
        "topics": list(summary.topics),
        "model": summary.model,
        "ai_generated": summary.generated_by != EXTRACTIVE,
    }


def _record(
    plan: Plan,
    now: datetime,
    status: str,
    summary: Mapping[str, Any] | None,
    error: str | None,
    usage: Usage,
) -> repo.SummaryRecord:
    assert plan.engine is not None
    return repo.SummaryRecord(
        user_id=plan.user_id,
        contact_id=plan.contact_id,
        status=status,
        generated_by=plan.engine.generated_by,
        prompt_version=plan.engine.prompt_version,
        summary=summary,
        error=error,
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        last_message_at=plan.newest,
        created_on=now,
    )
