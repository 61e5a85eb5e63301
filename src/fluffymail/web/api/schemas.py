"""The JSON API's request and response models (what OpenAPI documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from fluffymail.queue import Job, JobState

# Names travel to PostgreSQL as text: printable, bounded (no NUL bytes).
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
# A queue's name, as the queue itself accepts it (fluffymail.queue.validate.QUEUE_NAME).
QueueNameText = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")
]
BIGINT_MAX = 2**63 - 1
JSON_INT_MAX = 2**53 - 1
"""Largest id accepted in a JSON body: beyond it many JSON libraries (JavaScript's included)
round integers through a double, so the id that arrives would not be the one meant."""


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    """Every 4xx/5xx body."""

    error: ErrorDetail


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    is_admin: bool


class JobOut(BaseModel):
    id: int
    queue: str
    state: JobState
    data: Any = None
    priority: int
    attempt: int
    retry_count: int
    retry_limit: int
    singleton_key: str | None = None
    group_key: str | None = None
    created_on: datetime | None = None
    started_on: datetime | None = None
    completed_on: datetime | None = None
    start_after: datetime | None = None
    output: Any = None
    dead_letter: str | None = None
    source_name: str | None = None
    source_id: int | None = None
    worker: str | None = None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            queue=job.name,
            state=job.state,
            data=job.data,
            priority=job.priority,
            attempt=job.attempt,
            retry_count=job.retry_count,
            retry_limit=job.retry_limit,
            singleton_key=job.singleton_key,
            group_key=job.group_key,
            created_on=job.created_on,
            started_on=job.started_on,
            completed_on=job.completed_on,
            start_after=job.start_after,
            output=job.output,
            dead_letter=job.dead_letter,
            source_name=job.source_name,
            source_id=job.source_id,
            worker=job.worker,
        )


class AttemptOut(BaseModel):
    attempt: int
    worker: str | None = None
    started_on: datetime | None = None
    finished_on: datetime | None = None
    outcome: str | None = None
    error: Any = None
    seconds: float | None = None


class StepOut(BaseModel):
    """One step of a workflow run (`waiting_for`: the event, time or children it waits for)."""

    name: str
    kind: str
    state: str
    attempts: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: Any = None
    error: Any = None
    waiting_for: dict[str, Any] | None = None


class JobDetailOut(JobOut):
    attempts: list[AttemptOut]
    steps: list[StepOut] = Field(
        default_factory=list, description="A workflow run's steps, in the order run"
    )


class QueueStatsOut(BaseModel):
    name: str
    counts: dict[str, int] = Field(
        description="Jobs by state (created, retry, deferred, active, ...)"
    )
    available: int = Field(description="Jobs that could start now")
    oldest_seconds: float = Field(description="Age of the oldest job that could start now")
    workers: int
    paused: bool = Field(description="Paused by an operator, until resumed")
    paused_until: datetime | None = Field(
        default=None,
        description="A timed pause ends then: a job hit a limit every job of the queue shares",
    )
    dead_letter: str | None = None
    is_dead_letter: bool


class StatsOut(BaseModel):
    queues: list[QueueStatsOut]


class JobFilter(BaseModel):
    """Which jobs a bulk retry or cancel applies to (all given conditions must hold)."""

    model_config = ConfigDict(extra="forbid")

    queue: QueueNameText | None = None
    state: list[JobState] | None = Field(default=None, max_length=10)
    key: Name | None = Field(default=None, description="The jobs' group key")
    since: datetime | None = Field(default=None, description="Created at or after")
    until: datetime | None = Field(default=None, description="Created before")


class CountOut(BaseModel):
    count: int


class ActionOut(BaseModel):
    id: int
    state: JobState | None = None


class QueueActionOut(BaseModel):
    queue: str
    paused: bool | None = None
    redriven: int | None = None


class RedriveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(default=None, ge=1, le=1_000_000)


class ScheduleOut(BaseModel):
    name: str
    key: str
    cron: str
    tz: str
    data: Any = None
    options: Any = None
    last_tick: datetime | None = None
    next_tick: datetime | None = None


class WorkerOut(BaseModel):
    id: str
    host: str
    pid: int
    queues: list[str]
    started_on: datetime
    heartbeat_on: datetime
    silent_seconds: float


class ConnectionOut(BaseModel):
    id: int
    kind: str
    source: str
    display_name: str
    status: str
    last_error: str | None = None
    last_error_on: datetime | None = None
    last_synced_on: datetime | None = None
    sync_started_on: datetime | None = None
    seen_count: int
    stored_count: int
    remaining_estimate: int | None = None
    created_on: datetime


class ConnectionDetailOut(ConnectionOut):
    recent_jobs: list[JobOut]


class SyncOut(BaseModel):
    connection_id: int
    job_id: int | None = Field(description="The sync job sent; null when one was already queued")
    schedule: str = Field(description="The cron schedule the connection now syncs on")
