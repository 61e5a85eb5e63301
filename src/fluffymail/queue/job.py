"""The job as workers and callers see it: a frozen record plus its lease."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

_decode = json.JSONDecoder().decode


class JobState(StrEnum):
    CREATED = "created"
    RETRY = "retry"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Lease(NamedTuple):
    """Proof of one attempt: complete/fail/heartbeat apply only while it is current."""

    id: int
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A claimed or looked-up job. `data` is the JSON payload the sender gave."""

    id: int
    name: str
    data: Any
    priority: int = 0
    attempt: int = 0
    retry_count: int = 0
    retry_limit: int = 0
    expire_seconds: int = 900
    heartbeat_seconds: int = 30
    singleton_key: str | None = None
    group_key: str | None = None
    created_on: datetime | None = None
    started_on: datetime | None = None
    state: JobState = JobState.ACTIVE
    completed_on: datetime | None = None
    start_after: datetime | None = None
    output: Any = None
    dead_letter: str | None = None
    source_name: str | None = None
    source_id: int | None = None
    worker: str | None = None

    @property
    def lease(self) -> Lease:
        return Lease(self.id, self.attempt)

    @classmethod
    def from_fetch_row(cls, name: str, row: tuple[Any, ...]) -> Job:
        """Build from a `fetch_jobs.sql` row (column order fixed there; `data` as JSON text,
        decoded here: cheaper than psycopg's jsonb loader on the hot path)."""
        return cls(
            id=row[0],
            name=name,
            data=None if row[1] is None else _decode(row[1]),
            priority=row[2],
            attempt=row[3],
            retry_count=row[4],
            retry_limit=row[5],
            expire_seconds=row[6],
            heartbeat_seconds=row[7],
            singleton_key=row[8],
            group_key=row[9],
            created_on=row[10],
            started_on=row[11],
        )

    @classmethod
    def from_mapping(cls, row: dict[str, Any]) -> Job:
        """Build from a `get_job.sql` dict row."""
        return cls(**{**row, "state": JobState(row["state"])})
