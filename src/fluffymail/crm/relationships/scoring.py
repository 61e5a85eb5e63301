"""Relationship strength: one (user, contact) history → an explained score 0–100 (pure; stdlib only).

The formula (also in SCORING.md, with the reasons for each constant)::

    score = 100 × frequency × reciprocity × directness          (rounded to 0.1)

    frequency   = 1 − exp(−A / 20)
    A           = Σ_messages w · K(age)       w = 1 direct, 0.25 cc;  age in days before `now`
    K(age)      = 0.7 · R_H(age) + 0.3 · 2^(−age/240)     recent rhythm + long memory
    R_H(age)    = (1−α)·2^(−age/H_k) + α·2^(−age/H_k+1)   H grid = 30, 60, 120, 240 days
                  mixing the two grid half-lives around H = 30 · 2^((m−1)/6) days (capped at 240),
                  where m = months with any message: a long relationship decays slower.
    reciprocity = f + (1 − f) · g · T
    f           = 0.1 + 0.3 · (1 − exp(−d / 10))   d = distinct days the user wrote To them
    g           = min(1, 2 · min(sent, received) / max(sent, received))   (0 for one-way mail)
    T           = 1 − ½ · exp(−two_way_threads / 2)
    directness  = 0.6 + 0.4 · direct / (direct + cc)

Meetings (`compose(..., meetings=...)`, SCORING.md "Meetings") join the mail: each counts
MEETING_WEIGHT direct messages in A, one message each way (a meeting is two-way by nature) and
one two-way thread, and its month and day count as active.

Levels: ≥ 80 very strong, ≥ 60 strong, ≥ 40 moderate, ≥ 20 weak, ≥ 1 very weak, else no connection.
Trend: active days in the last 90 days vs the 90 before (±50 % and ≥ 2 days apart → warming/cooling).
Going cold: the score as of the last message was ≥ 60 and the silence since exceeds
max(3 × the median gap between the last 13 active days, 14 days).

`analyze(interactions, now)` computes all of it from a full history; `state.RelationshipState`
keeps the same sufficient statistics (`Tally`) incrementally; both end in `compose`.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fluffymail.crm.relationships.models import (
    Direction,
    Evidence,
    Interaction,
    Kind,
    Level,
    MonthCount,
    RelationshipScore,
    RelationshipStats,
    ScoreParts,
    Trend,
)

__all__ = [
    "HALF_LIVES",
    "LEVEL_THRESHOLDS",
    "Stamp",
    "Tally",
    "analyze",
    "compose",
    "half_life_days",
    "level_for",
    "tally_of",
]

HALF_LIVES: tuple[float, ...] = (30.0, 60.0, 120.0, 240.0)
"""The grid of decay half-lives (days) whose sums are kept; H is mixed from two neighbours."""
MONTHS_PER_DOUBLING = 6.0
MEMORY_SHARE = 0.3
"""Share of the decay kernel on the slowest grid half-life (240 d): the relationship's memory."""
CC_WEIGHT = 0.25
ACTIVITY_SCALE = 20.0
RECIPROCITY_FLOOR = 0.1
OUTREACH_FLOOR = 0.4
"""The reciprocity floor that sustained one-way mail *from the user* tends to (never above weak)."""
MEETING_WEIGHT = 3.0
"""A meeting counts as three direct messages: meeting someone is a stronger signal than a
message (Affinity and Attio weigh meetings above email for the same reason)."""
OUTREACH_DAYS = 10.0
BALANCE_SLACK = 2.0
THREAD_SCALE = 2.0
DIRECTNESS_FLOOR = 0.6
LEVEL_THRESHOLDS: tuple[tuple[float, Level], ...] = (
    (80.0, Level.VERY_STRONG),
    (60.0, Level.STRONG),
    (40.0, Level.MODERATE),
    (20.0, Level.WEAK),
    (1.0, Level.VERY_WEAK),
)
TREND_PERIOD_DAYS = 90
TREND_RATIO = 1.5
TREND_MIN_DIFFERENCE = 2
RHYTHM_DAYS = 13
GOING_COLD_FACTOR = 3.0
GOING_COLD_MIN_DAYS = 14.0
REPLY_WINDOW = 50
MAX_EVIDENCE = 4
DAY = 86_400.0

Stamp = tuple[datetime, str]
"""(timestamp, message id): ties on time are broken by message id, so results are deterministic."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """The sufficient statistics of one history; `compose` needs nothing else.

    `sums_at_last[i]` = Σ w · 2^(−(last − t)/HALF_LIVES[i]) in days, referenced at the last message.
    `days` are UTC day ordinals with any message (at least the last RHYTHM_DAYS and every day within
    two trend periods of the last message). `sent_days` counts the distinct UTC days on which the
    user wrote to them directly. Reply latencies are in seconds, oldest first.
    """

    sent: int = 0
    received: int = 0
    direct: int = 0
    cc: int = 0
    replies_sent: int = 0
    replies_received: int = 0
    two_way_threads: int = 0
    threads: int = 0
    sent_days: int = 0
    latencies_sent: tuple[float, ...] = ()
    latencies_received: tuple[float, ...] = ()
    first: Stamp | None = None
    last: Stamp | None = None
    last_reply: Stamp | None = None
    months: tuple[MonthCount, ...] = ()
    days: tuple[int, ...] = ()
    sums_at_last: tuple[float, ...] = (0.0,) * len(HALF_LIVES)


def analyze(interactions: Iterable[Interaction], now: datetime) -> RelationshipScore:
    """Score one (user, contact) history as of `now` by scanning all of it.

    A message dated after `now` (clock skew) moves `now` forward to it.
    """
    return compose(tally_of(interactions), now)


def weight(kind: Kind) -> float:
    return 1.0 if kind is Kind.DIRECT else CC_WEIGHT


def day_of(at: datetime) -> int:
    return at.astimezone(UTC).date().toordinal()


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def decay(days: float, half_life: float) -> float:
    return math.pow(2.0, -days / half_life)


def tally_of(interactions: Iterable[Interaction]) -> Tally:
    """The full-scan `Tally` of a history (every message exactly once, in any order)."""
    items = sorted(interactions, key=lambda i: (i.at, i.message_id))
    if not items:
        return Tally()
    last = items[-1]
    sent = [i for i in items if i.direction is Direction.SENT]
    replies = [i for i in items if i.is_reply]
    return Tally(
        sent=len(sent),
        received=len(items) - len(sent),
        direct=sum(1 for i in items if i.kind is Kind.DIRECT),
        cc=sum(1 for i in items if i.kind is Kind.CC),
        replies_sent=sum(1 for i in replies if i.direction is Direction.SENT),
        replies_received=sum(1 for i in replies if i.direction is Direction.RECEIVED),
        two_way_threads=len({i.thread_id for i in replies}),
        threads=len({i.thread_id for i in items}),
        sent_days=len(sent_days_of(items)),
        latencies_sent=_latencies(replies, Direction.SENT),
        latencies_received=_latencies(replies, Direction.RECEIVED),
        first=(items[0].at, items[0].message_id),
        last=(last.at, last.message_id),
        last_reply=(replies[-1].at, replies[-1].message_id) if replies else None,
        months=_months(items),
        days=tuple(sorted({day_of(i.at) for i in items})),
        sums_at_last=tuple(
            sum(weight(i.kind) * decay((last.at - i.at).total_seconds() / DAY, h) for i in items)
            for h in HALF_LIVES
        ),
    )


def sent_days_of(interactions: Iterable[Interaction]) -> set[int]:
    """UTC day ordinals on which the user wrote to the contact directly (To, not only Cc)."""
    return {
        day_of(i.at)
        for i in interactions
        if i.direction is Direction.SENT and i.kind is Kind.DIRECT
    }


def _latencies(replies: Sequence[Interaction], direction: Direction) -> tuple[float, ...]:
    timed = [i for i in replies if i.direction is direction and i.reply_latency is not None]
    return tuple(i.reply_latency.total_seconds() for i in timed[-REPLY_WINDOW:] if i.reply_latency)


def _months(items: Sequence[Interaction]) -> tuple[MonthCount, ...]:
    counts: dict[str, list[int]] = {}
    for i in items:
        pair = counts.setdefault(month_of(i.at), [0, 0])
        pair[0 if i.direction is Direction.SENT else 1] += 1
    return tuple(MonthCount(month=m, sent=s, received=r) for m, (s, r) in sorted(counts.items()))


def half_life_days(active_months: int) -> float:
    """H = 30 · 2^((m − 1)/6) days, within the grid: one month → 30 d, 19+ months → 240 d."""
    exponent = max(active_months - 1, 0) / MONTHS_PER_DOUBLING
    return min(HALF_LIVES[0] * math.pow(2.0, exponent), HALF_LIVES[-1])


def activity(sums: Sequence[float], half_life: float) -> float:
    """The rhythm part (the two grid sums around `half_life`, mixed log-linearly) plus memory."""
    position = math.log2(half_life / HALF_LIVES[0])
    k = min(int(position), len(HALF_LIVES) - 1)
    alpha = position - k
    rhythm = sums[k] if k + 1 >= len(HALF_LIVES) else (1 - alpha) * sums[k] + alpha * sums[k + 1]
    return (1 - MEMORY_SHARE) * rhythm + MEMORY_SHARE * sums[-1]


def outreach_floor(sent_days: int) -> float:
    """The reciprocity floor: 0.1 for mail only *to* the user, rising to 0.4 with the user's own
    sustained mail to them (distinct days written): 0.13 after 1 day, 0.22 after 5, 0.29 after 10."""
    rise = 1.0 - math.exp(-sent_days / OUTREACH_DAYS)
    return RECIPROCITY_FLOOR + (OUTREACH_FLOOR - RECIPROCITY_FLOOR) * rise


def reciprocity(
    sent: int, received: int, two_way_threads: int, sent_days: int = 0
) -> tuple[float, float]:
    """(balance g, reciprocity factor): one-way mail keeps the floor however frequent it is."""
    high = max(sent, received)
    balance = min(1.0, BALANCE_SLACK * min(sent, received) / high) if high else 0.0
    threads = 1.0 - 0.5 * math.exp(-two_way_threads / THREAD_SCALE)
    floor = outreach_floor(sent_days)
    return balance, floor + (1 - floor) * balance * threads


def directness(direct: int, cc: int) -> float:
    total = direct + cc
    return DIRECTNESS_FLOOR + (1 - DIRECTNESS_FLOOR) * direct / total if total else 0.0


def level_for(score: float) -> Level:
    for threshold, level in LEVEL_THRESHOLDS:
        if score >= threshold:
            return level
    return Level.NO_CONNECTION


def parts_at(tally: Tally, silence_days: float) -> ScoreParts:
    """The score's factors `silence_days` after the last message."""
    h = half_life_days(len(tally.months))
    decayed = [
        s * decay(silence_days, grid)
        for s, grid in zip(tally.sums_at_last, HALF_LIVES, strict=True)
    ]
    a = activity(decayed, h)
    balance, recip = reciprocity(tally.sent, tally.received, tally.two_way_threads, tally.sent_days)
    return ScoreParts(
        activity=a,
        half_life_days=h,
        frequency=1.0 - math.exp(-a / ACTIVITY_SCALE),
        balance=balance,
        reciprocity=recip,
        directness=directness(tally.direct, tally.cc),
    )


def score_of(parts: ScoreParts) -> float:
    return round(100.0 * parts.frequency * parts.reciprocity * parts.directness, 1)


def trend_for(days: Sequence[int], today: int) -> Trend:
    """Active days in the last TREND_PERIOD_DAYS against the period before."""
    current = sum(1 for d in days if today - TREND_PERIOD_DAYS < d <= today)
    previous = sum(
        1 for d in days if today - 2 * TREND_PERIOD_DAYS < d <= today - TREND_PERIOD_DAYS
    )
    if abs(current - previous) < TREND_MIN_DIFFERENCE:
        return Trend.STEADY
    if (current + 1) / (previous + 1) >= TREND_RATIO:
        return Trend.WARMING
    if (previous + 1) / (current + 1) >= TREND_RATIO:
        return Trend.COOLING
    return Trend.STEADY


def usual_gap(days: Sequence[int]) -> float | None:
    """Median gap (days) between the last RHYTHM_DAYS active days; None below 3 active days."""
    recent = sorted(days)[-RHYTHM_DAYS:]
    if len(recent) < 3:
        return None
    return float(statistics.median(b - a for a, b in itertools.pairwise(recent)))


def going_cold(peak_score: float, gap: float | None, silence_days: float) -> bool:
    """A strong relationship (as of its last message) silent for longer than its rhythm."""
    if gap is None or peak_score < LEVEL_THRESHOLDS[1][0]:
        return False
    return silence_days > max(GOING_COLD_FACTOR * gap, GOING_COLD_MIN_DAYS)


def median_delta(seconds: Sequence[float]) -> timedelta | None:
    return timedelta(seconds=statistics.median(seconds)) if seconds else None


def stats_of(tally: Tally) -> RelationshipStats:
    return RelationshipStats(
        sent=tally.sent,
        received=tally.received,
        direct=tally.direct,
        cc=tally.cc,
        two_way_threads=tally.two_way_threads,
        threads=tally.threads,
        replies_sent=tally.replies_sent,
        replies_received=tally.replies_received,
        median_reply_sent=median_delta(tally.latencies_sent),
        median_reply_received=median_delta(tally.latencies_received),
        first_at=tally.first[0] if tally.first else None,
        last_at=tally.last[0] if tally.last else None,
        monthly=tally.months,
    )


def compose(tally: Tally, now: datetime, meetings: Sequence[datetime] = ()) -> RelationshipScore:
    """Turn the sufficient statistics into the score, level, trend, flag and evidence at `now`.

    `meetings`: the start of each meeting with them; those after `now` do not count yet. The
    figures (`stats`) stay the mail's; the meetings change the factors only.
    """
    met = sorted(m for m in meetings if m <= now)
    scored = with_meetings(tally, met) if met else tally
    if scored.last is None:
        return _empty(tally, now)
    now = max(now, scored.last[0])
    silence = (now - scored.last[0]).total_seconds() / DAY
    parts = parts_at(scored, silence)
    score = score_of(parts)
    gap = usual_gap(scored.days)
    cold = going_cold(score_of(parts_at(scored, 0.0)), gap, silence)
    facts = evidence(tally, now, gap if cold else None) if tally.last else ()
    if met:
        facts = _meeting_fact(met, now), *facts
    return RelationshipScore(
        now=now,
        score=score,
        level=level_for(score),
        trend=trend_for(scored.days, day_of(now)),
        going_cold=cold,
        usual_gap_days=gap,
        parts=parts,
        stats=stats_of(tally),
        evidence=tuple(facts[:MAX_EVIDENCE]),
    )


def with_meetings(tally: Tally, meetings: Sequence[datetime]) -> Tally:
    """The tally with past meetings (sorted starts) folded in as two-way direct interactions
    of weight MEETING_WEIGHT; only for scoring, never for the figures."""
    last_meeting = (meetings[-1], "")
    last = max(filter(None, [tally.last, last_meeting]))
    shift = (last[0] - tally.last[0]).total_seconds() / DAY if tally.last else 0.0
    sums = tuple(
        s * decay(shift, h)
        + sum(MEETING_WEIGHT * decay((last[0] - m).total_seconds() / DAY, h) for m in meetings)
        for s, h in zip(tally.sums_at_last, HALF_LIVES, strict=True)
    )
    months = {m.month: m for m in tally.months}
    for m in meetings:
        months.setdefault(month_of(m), MonthCount(month=month_of(m), sent=0, received=0))
    n = len(meetings)
    return Tally(
        sent=tally.sent + n, received=tally.received + n, direct=tally.direct + n, cc=tally.cc,
        two_way_threads=tally.two_way_threads + n, threads=tally.threads + n,
        sent_days=tally.sent_days, first=min(filter(None, [tally.first, (meetings[0], "")])),
        last=last, last_reply=tally.last_reply, months=tuple(months[k] for k in sorted(months)),
        days=tuple(sorted(set(tally.days) | {day_of(m) for m in meetings})), sums_at_last=sums,
    )  # fmt: skip


def _meeting_fact(meetings: Sequence[datetime], now: datetime) -> Evidence:
    n = len(meetings)
    return Evidence(text=f"Met {n} time{'s' * (n != 1)}, last {ago(meetings[-1], now)}")


def _empty(tally: Tally, now: datetime) -> RelationshipScore:
    parts = ScoreParts(
        activity=0.0, half_life_days=HALF_LIVES[0], frequency=0.0,
        balance=0.0, reciprocity=RECIPROCITY_FLOOR, directness=0.0,
    )  # fmt: skip
    return RelationshipScore(
        now=now, score=0.0, level=Level.NO_CONNECTION, trend=Trend.STEADY, going_cold=False,
        usual_gap_days=None, parts=parts, stats=stats_of(tally), evidence=(),
    )  # fmt: skip


def ago(then: datetime, now: datetime) -> str:
    days = int((now - then).total_seconds() // DAY)
    if days < 1:
        return "today"
    if days < 60:
        return "1 day ago" if days == 1 else f"{days} days ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def evidence(tally: Tally, now: datetime, cold_gap: float | None) -> tuple[Evidence, ...]:
    """The few facts that drove the score, most decisive first, each with its message ids."""
    assert tally.last is not None and tally.first is not None
    last_at, last_id = tally.last
    facts = [_reciprocity_fact(tally, now)]
    if cold_gap is not None:
        silent = int((now - last_at).total_seconds() // DAY)
        facts.append(
            Evidence(
                text=f"Silent for {silent} days; usually every {cold_gap:g} days",
                message_ids=(last_id,),
            )
        )
    facts.append(Evidence(text=f"Last message {ago(last_at, now)}", message_ids=(last_id,)))
    if tally.cc:
        total = tally.direct + tally.cc
        text = (
            f"Only ever cc'd together ({total} message{'s' * (total != 1)})"
            if not tally.direct
            else f"{tally.cc} of {total} messages only cc'd"
        )
        facts.append(Evidence(text=text))
    first_at, first_id = tally.first
    months = len(tally.months)
    facts.append(
        Evidence(
            text=f"In touch in {months} month{'s' * (months != 1)} since {first_at:%b %Y}",
            message_ids=(first_id,),
        )
    )
    return tuple(facts[:MAX_EVIDENCE])


def _times(n: int) -> str:
    return f"{n} time{'s' * (n != 1)}"


def _reciprocity_fact(tally: Tally, now: datetime) -> Evidence:
    sent, received, last_id = tally.sent, tally.received, tally.last[1] if tally.last else ""
    if tally.last_reply is not None:
        threads = tally.two_way_threads
        text = f"{threads} two-way thread{'s' * (threads != 1)}, last reply {ago(tally.last_reply[0], now)}; you sent {sent}, they sent {received}"
        return Evidence(text=text, message_ids=(tally.last_reply[1],))
    if not sent:
        return Evidence(
            text=f"{received} message{'s' * (received != 1)} from them and none from you: one-way mail",
            message_ids=(last_id,),
        )
    if not received:
        days = tally.sent_days
        on = f" on {days} day{'s' * (days != 1)}" if days else ""
        return Evidence(
            text=f"You wrote {_times(sent)}{on} and never got an answer", message_ids=(last_id,)
        )
    return Evidence(
        text=f"You sent {sent} and they sent {received}, but neither ever replied",
        message_ids=(last_id,),
    )
