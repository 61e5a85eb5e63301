"""One page of a list the web app shows: its items, the total, and the offsets around it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)  # no slots: a slotted Generic breaks on `Page[X](...)`
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None

    @property
    def prev_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


def display_score(value: object) -> float | None:
    """A stored score as shown: one decimal, None when there is none."""
    return None if value is None else round(float(value), 1)  # type: ignore[arg-type]
