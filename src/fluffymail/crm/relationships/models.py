"""Relationship records: one (user, contact) interaction, the statistics and the explained score.

Pure data (stdlib only). The rules that fill these live in `scoring` and `state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "Direction",
    "Evidence",
    "Interaction",
    "Kind",
    "Level",
    "MonthCount",
    "RelationshipScore",
    "RelationshipStats",
    "ScoreParts",
    "Trend",
]


class Direction(StrEnum):
    """Who wrote the message, seen from the user: `sent` by the user, `received` from the contact."""

    SENT = "sent"
    RECEIVED = "received"


class Kind(StrEnum):
    """`direct`: the other party was From/To; `cc`: one of the two was only on Cc."""

    DIRECT = "direct"
    CC = "cc"


class Level(StrEnum):
    """Display levels, strongest first (thresholds in `scoring.LEVEL_THRESHOLDS`)."""

    VERY_STRONG = "very strong"
    STRONG = "strong"
    MODERATE = "moderate"
    WEAK = "weak"
    VERY_WEAK = "very weak"
    NO_CONNECTION = "no connection"


class Trend(StrEnum):
    """Activity in the current period against the period before it."""

    WARMING = "warming"
    STEADY = "steady"
    COOLING = "cooling"


@dataclass(frozen=True, slots=True, kw_only=True)
class Interaction:
    """One message between the user and one contact.

    `at` must be timezone-aware. `is_reply` means the message answers a message from the *other*
    party in the same thread (a follow-up to one's own message is not a reply);
    `reply_latency` is the time since that message, when known.
    """

    at: datetime
    direction: Direction
    kind: Kind
    thread_id: str
    message_id: str
    is_reply: bool = False
    reply_latency: timedelta | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthCount:
    """Messages in one calendar month (UTC), `month` as "YYYY-MM"."""

    month: str
    sent: int
    received: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RelationshipStats:
    """The descriptive numbers behind a score; all counts are lifetime counts.

    The median reply times are over the most recent `scoring.REPLY_WINDOW` replies each way.
    """

    sent: int
    received: int
    direct: int
    cc: int
    two_way_threads: int
    replies_sent: int
    replies_received: int
    median_reply_sent: timedelta | None
    median_reply_received: timedelta | None
    first_at: datetime | None
    last_at: datetime | None
    monthly: tuple[MonthCount, ...]
    threads: int = 0  # distinct threads of their mail with the user

    @property
    def total(self) -> int:
        return self.sent + self.received

    @property
    def cc_only(self) -> bool:
        """True when every message had one of the two only on Cc."""
        return self.total > 0 and self.direct == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreParts:
    """The factors of `score = 100 × frequency × reciprocity × directness` (see SCORING.md)."""

    activity: float
    half_life_days: float
    frequency: float
    balance: float
    reciprocity: float
    directness: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """One fact that drove the score, as a short sentence, with the messages that show it."""

    text: str
    message_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RelationshipScore:
    """A (user, contact) relationship as of `now`: score 0–100, level, trend and its evidence."""

    now: datetime
    score: float
    level: Level
    trend: Trend
    going_cold: bool
    usual_gap_days: float | None
    parts: ScoreParts
    stats: RelationshipStats
    evidence: tuple[Evidence, ...]
