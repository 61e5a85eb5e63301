"""The incremental form of `scoring`: a compact `RelationshipState` updated with new messages only.

Counters, decayed sums referenced at the last message, the last timestamps, the monthly series, a
bounded set of recent active days, the two-way thread ids and the days the user wrote to them. `state.score(now)` equals
`scoring.analyze(all_messages, now)`; feed each message once, in any order and any batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fluffymail.crm.relationships import scoring
from fluffymail.crm.relationships.models import (
    Direction,
    Interaction,
    Kind,
    MonthCount,
    RelationshipScore,
)

__all__ = ["RelationshipState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RelationshipState:
    """What is kept between runs for one (user, contact); immutable, `update` returns a new one.

    Reply latencies are (timestamp, message id, seconds) of the last `scoring.REPLY_WINDOW` each way.
    `sent_days` are the UTC day ordinals on which the user wrote to them directly (one int per day).
    """

    tally: scoring.Tally = field(default_factory=scoring.Tally)
    two_way_thread_ids: frozenset[str] = frozenset()
    thread_ids: frozenset[str] = frozenset()
    sent_days: frozenset[int] = frozenset()
    replies_sent: tuple[tuple[datetime, str, float], ...] = ()
    replies_received: tuple[tuple[datetime, str, float], ...] = ()

    def update(self, interactions: Iterable[Interaction]) -> RelationshipState:
        """Fold in messages not seen before (older ones too) without rescanning the history."""
        batch = sorted(interactions, key=lambda i: (i.at, i.message_id))
        if not batch:
            return self
        old = self.tally
        last = max(filter(None, [old.last, (batch[-1].at, batch[-1].message_id)]))
        threads = self.two_way_thread_ids | {i.thread_id for i in batch if i.is_reply}
        all_threads = self.thread_ids | threads | {i.thread_id for i in batch}
        sent_days = self.sent_days | scoring.sent_days_of(batch)
        sent_lat = _latest(self.replies_sent, batch, Direction.SENT)
        recv_lat = _latest(self.replies_received, batch, Direction.RECEIVED)
        tally = replace(
            old,
            sent=old.sent + sum(1 for i in batch if i.direction is Direction.SENT),
            received=old.received + sum(1 for i in batch if i.direction is Direction.RECEIVED),
            direct=old.direct + sum(1 for i in batch if i.kind is Kind.DIRECT),
            cc=old.cc + sum(1 for i in batch if i.kind is Kind.CC),
            replies_sent=old.replies_sent + _replies(batch, Direction.SENT),
            replies_received=old.replies_received + _replies(batch, Direction.RECEIVED),
            two_way_threads=len(threads),
            threads=len(all_threads),
            sent_days=len(sent_days),
            latencies_sent=tuple(s for _, _, s in sent_lat),
            latencies_received=tuple(s for _, _, s in recv_lat),
            first=min(filter(None, [old.first, (batch[0].at, batch[0].message_id)])),
            last=last,
            last_reply=_last_reply(old.last_reply, batch),
            months=_months(old.months, batch),
            days=_days(old.days, batch, scoring.day_of(last[0])),
            sums_at_last=_sums(old, batch, last[0]),
        )
        return RelationshipState(
            tally=tally,
            two_way_thread_ids=threads,
            thread_ids=all_threads,
            sent_days=sent_days,
            replies_sent=sent_lat,
            replies_received=recv_lat,
        )

    def score(self, now: datetime, meetings: Sequence[datetime] = ()) -> RelationshipScore:
        """The same result as `scoring.analyze` over every message folded in so far (with the
        contact's meetings, which are read afresh each time rather than folded)."""
        return scoring.compose(self.tally, now, meetings)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form (for a jsonb column)."""
        t = self.tally
        return {
            "counts": [t.sent, t.received, t.direct, t.cc, t.replies_sent, t.replies_received],
            "first": _stamp_out(t.first),
            "last": _stamp_out(t.last),
            "last_reply": _stamp_out(t.last_reply),
            "months": [[m.month, m.sent, m.received] for m in t.months],
            "days": list(t.days),
            "sums_at_last": list(t.sums_at_last),
            "two_way_thread_ids": sorted(self.two_way_thread_ids),
            "thread_ids": sorted(self.thread_ids),
            "sent_days": sorted(self.sent_days),
            "replies_sent": [[at.isoformat(), mid, s] for at, mid, s in self.replies_sent],
            "replies_received": [[at.isoformat(), mid, s] for at, mid, s in self.replies_received],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RelationshipState:
        sent, received, direct, cc, replies_sent, replies_received = data["counts"]
        threads = frozenset(data["two_way_thread_ids"])
        # absent from states stored before 0019 (which makes the next run rebuild them all)
        all_threads = threads | frozenset(data.get("thread_ids", ()))
        # absent from states stored before it was kept: count from here on (a full run rebuilds)
        sent_days = frozenset(int(d) for d in data.get("sent_days", ()))
        sent_lat = tuple(
            (datetime.fromisoformat(a), m, float(s)) for a, m, s in data["replies_sent"]
        )
        recv_lat = tuple(
            (datetime.fromisoformat(a), m, float(s)) for a, m, s in data["replies_received"]
        )
        tally = scoring.Tally(
            sent=sent, received=received, direct=direct, cc=cc,
            replies_sent=replies_sent, replies_received=replies_received,
            two_way_threads=len(threads), threads=len(all_threads), sent_days=len(sent_days),
            latencies_sent=tuple(s for _, _, s in sent_lat),
            latencies_received=tuple(s for _, _, s in recv_lat),
            first=_stamp_in(data["first"]), last=_stamp_in(data["last"]),
            last_reply=_stamp_in(data["last_reply"]),
            months=tuple(MonthCount(month=m, sent=s, received=r) for m, s, r in data["months"]),
            days=tuple(data["days"]),
            sums_at_last=tuple(float(s) for s in data["sums_at_last"]),
        )  # fmt: skip
        return cls(
            tally=tally,
            two_way_thread_ids=threads,
            thread_ids=all_threads,
            sent_days=sent_days,
            replies_sent=sent_lat,
            replies_received=recv_lat,
        )


def _replies(batch: Iterable[Interaction], direction: Direction) -> int:
    return sum(1 for i in batch if i.is_reply and i.direction is direction)


def _latest(
    kept: tuple[tuple[datetime, str, float], ...],
    batch: Iterable[Interaction],
    direction: Direction,
) -> tuple[tuple[datetime, str, float], ...]:
    new = [
        (i.at, i.message_id, i.reply_latency.total_seconds())
        for i in batch
        if i.is_reply and i.direction is direction and i.reply_latency is not None
    ]
    return tuple(sorted([*kept, *new], key=lambda r: (r[0], r[1]))[-scoring.REPLY_WINDOW :])


def _last_reply(old: scoring.Stamp | None, batch: Iterable[Interaction]) -> scoring.Stamp | None:
    stamps = [(i.at, i.message_id) for i in batch if i.is_reply]
    return max(filter(None, [old, *stamps]), default=None)


def _months(old: tuple[MonthCount, ...], batch: Iterable[Interaction]) -> tuple[MonthCount, ...]:
    counts = {m.month: [m.sent, m.received] for m in old}
    for i in batch:
        pair = counts.setdefault(scoring.month_of(i.at), [0, 0])
        pair[0 if i.direction is Direction.SENT else 1] += 1
    return tuple(MonthCount(month=m, sent=s, received=r) for m, (s, r) in sorted(counts.items()))


def _days(old: tuple[int, ...], batch: Iterable[Interaction], last_day: int) -> tuple[int, ...]:
    """Keep what `compose` can still use: the last RHYTHM_DAYS and two trend periods back."""
    days = sorted(set(old) | {scoring.day_of(i.at) for i in batch})
    horizon = last_day - 2 * scoring.TREND_PERIOD_DAYS
    recent = set(days[-scoring.RHYTHM_DAYS :])
    return tuple(d for d in days if d > horizon or d in recent)


def _sums(old: scoring.Tally, batch: Iterable[Interaction], last: datetime) -> tuple[float, ...]:
    """Rebase the old sums to the new last message, then add the batch at its own ages."""
    shift = (last - old.last[0]).total_seconds() / scoring.DAY if old.last else 0.0
    out = []
    for s, h in zip(old.sums_at_last, scoring.HALF_LIVES, strict=True):
        added = sum(
            scoring.weight(i.kind) * scoring.decay((last - i.at).total_seconds() / scoring.DAY, h)
            for i in batch
        )
        out.append(s * scoring.decay(shift, h) + added)
    return tuple(out)


def _stamp_out(stamp: scoring.Stamp | None) -> list[str] | None:
    return [stamp[0].isoformat(), stamp[1]] if stamp else None


def _stamp_in(raw: list[str] | None) -> scoring.Stamp | None:
    return (datetime.fromisoformat(raw[0]), raw[1]) if raw else None
