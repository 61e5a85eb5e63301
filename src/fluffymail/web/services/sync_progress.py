"""A running sync's progress as its owner reads it: the phase of its workflow run, and ETA."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from fluffymail.crm.relationships import repo as relationships_repo
from fluffymail.jobs import sync_emails
from fluffymail.queue import Job, JobQueue, JobState
from fluffymail.queue.workflows import StepInfo, Workflows

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

RUNNING = (JobState.ACTIVE, JobState.RETRY, JobState.CREATED)
PHASES = {
    "reading": "reading mail",
    "extracting": "finding people",
    "scoring": "scoring",
    "indexing": "indexing for search",
}
BATCHED = ("extracting", "indexing")  # the phases counted in batches of jobs


class SyncedView(Protocol):
    """What the progress reads of a connection's view (`connections.ConnectionView`)."""

    @property
    def id(self) -> int: ...
    @property
    def seen_count(self) -> int: ...
    @property
    def remaining_estimate(self) -> int | None: ...
    @property
    def sync_started_on(self) -> datetime | None: ...


View = TypeVar("View", bound=SyncedView)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncProgress:
    """Where one sync's run is: `phase` reading, extracting, scoring or indexing; the phase's
    batches done of those sent so far; the user's contacts and scored relationships now."""

    run_id: int
    phase: str
    batches_done: int
    batches_total: int
    contacts: int
    scored: int
    eta_seconds: float | None

    @property
    def phase_label(self) -> str:
        return PHASES[self.phase]

    @property
    def percent(self) -> int | None:
        if self.phase not in BATCHED or not self.batches_total:
            return None
        return round(100 * self.batches_done / self.batches_total)

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "phase": self.phase,
            "batches_done": self.batches_done,
            "batches_total": self.batches_total,
            "contacts": self.contacts,
            "relationships_scored": self.scored,
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds),
        }


async def with_progress(
    pool: AsyncConnectionPool,
    queue: JobQueue,
    user_id: int,
    views: list[View],
    now: datetime,
    syncs: list[Job],
) -> list[View]:
    """The views, each whose latest sync run (of `syncs`, the newest sync jobs, newest first)
    is still going with its `progress`."""
    latest: dict[int, Job] = {}
    for job in syncs:
        data = job.data if isinstance(job.data, dict) else {}
        if data.get("user_id") == user_id:
            latest.setdefault(data.get("connection_id"), job)
    going = {v.id: latest[v.id] for v in views if v.id in latest and latest[v.id].state in RUNNING}
    if not going:
        return views
    async with pool.connection() as conn:
        contacts, scored = await relationships_repo.found_and_scored(conn, user_id)
    workflows = Workflows(queue)
    out = []
    for view in views:
        job = going.get(view.id)
        if job is not None:
            steps = await workflows.steps(job.id)
            progress = _progress(job.id, steps, view, contacts, scored, now)
            view = replace(view, progress=progress)  # type: ignore[type-var]
        out.append(view)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase:
    """Where a sync's run is, from its steps: reading, extracting, scoring or indexing, and
    the phase's batches (extraction or search jobs) done of those sent so far (since
    `batches_since`)."""

    name: str
    batches_done: int
    batches_total: int
    batches_since: datetime | None


def phase_of(steps: list[StepInfo]) -> Phase:
    """The phase of a sync's run from its step rows (the page, the API, `fluffymail import`)."""
    by_name = {s.name: s for s in steps}
    read, group = by_name.get(sync_emails.SYNC_STEP), by_name.get(sync_emails.EXTRACT_STEP)
    analysed = by_name.get(sync_emails.ANALYZE_STEP)
    if read is None or read.state != "completed":
        name = "reading"
    elif group is not None and group.state != "completed":
        name = "extracting"
    elif analysed is None or analysed.state != "completed":
        name = "scoring"
    else:
        name, group = "indexing", by_name.get(sync_emails.INDEX_STEP)
    total = (group.children or 0) if group else 0
    done = total - ((group.pending or 0) if group else 0)
    since = group.started_at if group is not None else None
    return Phase(name=name, batches_done=done, batches_total=total, batches_since=since)


def _progress(
    run_id: int,
    steps: list[StepInfo],
    view: SyncedView,
    contacts: int,
    scored: int,
    now: datetime,
) -> SyncProgress:
    phase = phase_of(steps)
    if phase.name == "reading":
        eta = _read_eta(view, now)
    elif phase.name in BATCHED:
        left = phase.batches_total - phase.batches_done
        eta = _rate_eta(phase.batches_done, left, phase.batches_since, now)
    else:
        eta = None
    return SyncProgress(
        run_id=run_id,
        phase=phase.name,
        batches_done=phase.batches_done,
        batches_total=phase.batches_total,
        contacts=contacts,
        scored=scored,
        eta_seconds=eta,
    )


def _read_eta(view: SyncedView, now: datetime) -> float | None:
    return _rate_eta(view.seen_count, view.remaining_estimate or 0, view.sync_started_on, now)


def _rate_eta(done: int, left: int, since: datetime | None, now: datetime) -> float | None:
    """Seconds left at the rate so far; None before there is a rate."""
    if since is None or done <= 0 or left <= 0:
        return None
    elapsed = (now - since).total_seconds()
    return left * elapsed / done if elapsed > 0 else None
