"""Crafted interaction histories for the relationship-scoring tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from fluffymail.crm.relationships.models import Direction, Interaction, Kind

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def exchanges(
    days_ago: Iterable[float],
    *,
    prefix: str = "x",
    kind: Kind = Kind.DIRECT,
    two_way: bool = True,
    now: datetime = NOW,
    reply_after: timedelta = timedelta(hours=4),
) -> list[Interaction]:
    """One thread per day in `days_ago`: they write, and (when `two_way`) you answer."""
    out: list[Interaction] = []
    for n, ago in enumerate(days_ago):
        at = now - timedelta(days=ago)
        thread = f"{prefix}-t{n}"
        out.append(
            Interaction(
                at=at,
                direction=Direction.RECEIVED,
                kind=kind,
                thread_id=thread,
                message_id=f"{prefix}-{n}a",
            )
        )
        if two_way:
            out.append(
                Interaction(
                    at=at + reply_after, direction=Direction.SENT, kind=kind, thread_id=thread,
                    message_id=f"{prefix}-{n}b", is_reply=True, reply_latency=reply_after,
                )
            )  # fmt: skip
    return out


def one_way(
    days_ago: Iterable[float], *, direction: Direction, prefix: str = "n"
) -> list[Interaction]:
    """Messages in one direction only: a newsletter (received) or unanswered outreach (sent)."""
    return [
        Interaction(
            at=NOW - timedelta(days=ago), direction=direction, kind=Kind.DIRECT,
            thread_id=f"{prefix}-t{n}", message_id=f"{prefix}-{n}",
        )
        for n, ago in enumerate(days_ago)
    ]  # fmt: skip
