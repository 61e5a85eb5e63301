"""The figures every view shows about one contact, read from the one view that defines them
(`crm.contact_figures`, migration 0019; SCORING.md "Figures"). Pure data and parsing; the
SQL that selects `to_jsonb(f) AS figures` from that view is the only source of these numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Figures", "from_json"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """One contact's figures; every number is None while `updating` (never a stale number).

    messages = sent + received: the mail between the user and them that the analysis counts
    (bulk and automated mail left out, mail where both were only copied left out).
    """

    updating: bool
    messages: int | None
    sent: int | None
    received: int | None
    threads: int | None
    two_way_threads: int | None
    first_at: datetime | None
    last_at: datetime | None
    strength: float | None  # 0–100, one decimal; None: no relationship (or updating)
    level: str | None
    meetings: int = 0  # past meetings the score counts (0019's view, extended by 0029)
    last_meeting_at: datetime | None = None

    @property
    def sentence(self) -> str:
        """ "101 messages in 27 threads (47 from you, 54 from them)", or "updating…"."""
        if self.updating:
            return "updating…"
        return (
            f"{_n(self.messages, 'message')} in {_n(self.threads, 'thread')} "
            f"({self.sent or 0:,} from you, {self.received or 0:,} from them)"
        )


UPDATING = Figures(
    updating=True,
    messages=None,
    sent=None,
    received=None,
    threads=None,
    two_way_threads=None,
    first_at=None,
    last_at=None,
    strength=None,
    level=None,
)


def _n(count: int | None, noun: str) -> str:
    count = count or 0
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def from_json(value: Mapping[str, Any] | None) -> Figures:
    """Figures from a `to_jsonb(crm.contact_figures)` column (absent: not known, updating)."""
    if not isinstance(value, Mapping) or value.get("updating", True):
        return UPDATING
    strength = value.get("strength")
    return Figures(
        updating=False,
        messages=_int(value.get("messages")),
        sent=_int(value.get("sent")),
        received=_int(value.get("received")),
        threads=_int(value.get("threads")),
        two_way_threads=_int(value.get("two_way_threads")),
        first_at=_at(value.get("first_at")),
        last_at=_at(value.get("last_at")),
        strength=float(strength) if isinstance(strength, int | float) else None,
        level=value.get("level") or "no connection",
        meetings=_int(value.get("meetings")),
        last_meeting_at=_at(value.get("last_meeting_at")),
    )
