"""The jobs dashboard's figures (per-queue counts and backlog age, pauses, failures, dead
letters, schedules, workers, per-minute throughput) and one job's page (its attempts and, for a
workflow run, its steps and progress), read through the public `JobQueue` API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fluffymail.queue import Job, JobQueue
from fluffymail.queue.workflows import Run, RunSummary, StepInfo, Workflows

STATES = ("created", "retry", "deferred", "active", "completed", "cancelled", "failed")
FINISHED = frozenset({"completed", "cancelled", "failed"})
STEPS_SHOWN = 100  # a run's page lists its latest steps; its progress counts them all
RUNS_SHOWN = 20  # the dashboard lists the newest runs not finished yet
THROUGHPUT_MINUTES = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    name: str
    counts: dict[str, int]
    available: int
    oldest_seconds: float
    workers: int
    paused: bool
    dead_letter: str | None
    is_dead_letter: bool
    # a timed pause (a job hit a limit shared by the whole queue, e.g. the AI's 429) ends then
    paused_until: datetime | None = None

    @property
    def waiting_dead(self) -> int:
        """Dead letters waiting for a redrive (this queue being a dead-letter queue)."""
        return (
            self.counts.get("created", 0)
            + self.counts.get("retry", 0)
            + self.counts.get("deferred", 0)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedJob:
    job: Job
    error: str
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Throughput:
    """Completed jobs per minute, oldest first, ending with the current minute."""

    start: datetime
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleRow:
    name: str
    key: str
    cron: str
    tz: str
    next_tick: datetime
    last_run: datetime | None  # None: not run yet

    @classmethod
    def from_schedule(cls, schedule: dict[str, Any]) -> ScheduleRow:
        """A schedule's `last_tick` starts as the tick before it was created (so it first fires
        at the next one): a tick from before the schedule existed never ran."""
        last_tick, created_on = schedule["last_tick"], schedule["created_on"]
        return cls(
            name=schedule["name"],
            key=schedule["key"],
            cron=schedule["cron"],
            tz=schedule["tz"],
            next_tick=schedule["next_tick"],
            last_run=last_tick if last_tick is not None and last_tick > created_on else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    now: datetime
    queues: list[QueueRow]
    failed: list[FailedJob]
    schedules: list[ScheduleRow]
    workers: list[dict[str, Any]]
    throughput: Throughput
    dead_letter_queues: list[QueueRow] = field(default_factory=list)
    runs: list[RunSummary] = field(default_factory=list)  # workflow runs not finished yet


async def queue_rows(queue: JobQueue) -> list[QueueRow]:
    """Every queue with counts by state, available backlog, its age, workers and flags."""
    stats = await queue.get_queue_stats()
    options = await queue.get_queues()
    depth = await queue.get_queue_depth()
    pauses = await queue.get_queue_pauses()
    targets = {opts.dead_letter for opts in options.values() if opts.dead_letter}
    rows = []
    for name, counts in stats.items():  # type: ignore[union-attr]
        d = depth.get(name, {})
        rows.append(
            QueueRow(
                name=name,
                counts={state: int(counts.get(state, 0)) for state in STATES},
                available=int(d.get("available", 0)),
                oldest_seconds=float(d.get("oldest_seconds", 0) or 0),
                workers=int(d.get("workers", 0)),
                paused=name in pauses and pauses[name] is None,
                paused_until=pauses.get(name),
                dead_letter=options[name].dead_letter if name in options else None,
                is_dead_letter=name in targets,
            )
        )
    return rows


def error_text(job: Job) -> str:
    """The failure message stored as a failed job's output."""
    output = job.output
    if isinstance(output, dict):
        message = output.get("message") or output.get("reason") or output.get("error")
        kind = output.get("type")
        if message is not None:
            return f"{kind}: {message}" if kind else str(message)
    return "" if output is None else str(output)


async def failed_jobs(queue: JobQueue, limit: int = 20) -> list[FailedJob]:
    jobs = await queue.find_jobs(states=["failed"], limit=limit)
    return [FailedJob(job=job, error=error_text(job), attempts=job.attempt) for job in jobs]


async def throughput(
    queue: JobQueue, minutes: int = THROUGHPUT_MINUTES
) -> tuple[datetime, Throughput]:
    """Completed jobs per minute over the last `minutes` minutes, current minute included."""
    now, counts = await queue.get_throughput(minutes)
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
    return now, Throughput(start=start, counts=counts)


async def dashboard(queue: JobQueue) -> Dashboard:
    """Everything the jobs page shows, in one read."""
    rows = await queue_rows(queue)
    now, tp = await throughput(queue)
    return Dashboard(
        now=now,
        queues=[row for row in rows if not row.is_dead_letter],
        dead_letter_queues=[row for row in rows if row.is_dead_letter],
        failed=await failed_jobs(queue),
        schedules=[ScheduleRow.from_schedule(s) for s in await queue.get_schedules()],
        workers=await queue.get_workers(),
        throughput=tp,
        runs=await Workflows(queue).unfinished(RUNS_SHOWN),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunProgress:
    """How far a workflow run is: steps done of the steps it has asked for so far (later ones
    are unknown until its code reaches them), child runs done of those its fan-outs started,
    and the step it is suspended on (sleeping, waiting for an event or for children)."""

    steps_done: int
    steps_known: int
    children_done: int
    children_total: int
    waiting_on: StepInfo | None

    @classmethod
    def of(cls, run: Run) -> RunProgress:
        done = total = 0
        for step in run.steps:
            if step.kind not in ("invoke", "group"):
                continue
            if step.state != "completed":
                total += int(step.children or 0)
                done += int(step.children or 0) - int(step.pending or 0)
            elif isinstance(step.output, list):  # invoke: the children's outputs
                total, done = total + len(step.output), done + len(step.output)
            elif isinstance(step.output, dict):  # group: how its jobs ended
                n = int(step.output.get("children", 0))
                total, done = total + n, done + n
        suspended = [s for s in run.steps if s.waiting_for is not None]
        return cls(
            steps_done=sum(step.state == "completed" for step in run.steps),
            steps_known=len(run.steps),
            children_done=done,
            children_total=total,
            waiting_on=suspended[0] if suspended else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class JobPage:
    """One job with its attempts; `run` and `progress` when the job is a workflow run."""

    job: Job
    attempts: list[dict[str, Any]]
    run: Run | None = None
    progress: RunProgress | None = None

    @property
    def shown_steps(self) -> list[StepInfo]:
        """The run's latest `STEPS_SHOWN` steps, in the order run."""
        return self.run.steps[-STEPS_SHOWN:] if self.run else []

    @property
    def hidden_steps(self) -> int:
        """How many earlier steps the page leaves out."""
        return max(len(self.run.steps) - STEPS_SHOWN, 0) if self.run else 0

    @property
    def live(self) -> bool:
        """Still queued, running or suspended: the page keeps refreshing itself."""
        return str(self.job.state) not in FINISHED


async def job_page(queue: JobQueue, job_id: int) -> JobPage | None:
    """The job `job_id` as its page shows it, or None if there is no such job."""
    job = await queue.get_job(job_id)
    if job is None:
        return None
    attempts = await queue.get_attempts(job_id)
    run = await Workflows(queue).get(job_id)
    if run is None or not (run.steps or run.cancel_on):  # a plain job (or a run not begun)
        return JobPage(job=job, attempts=attempts)
    return JobPage(job=job, attempts=attempts, run=run, progress=RunProgress.of(run))
