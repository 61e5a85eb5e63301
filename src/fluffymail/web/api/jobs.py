"""Job administration (admins only): stats, listing, detail with attempts, retry/cancel
(single and by filter), queue pause/resume/redrive, schedules and workers."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from fluffymail.queue import JobState
from fluffymail.queue.workflows import Workflows
from fluffymail.web.api.schemas import (
    BIGINT_MAX,
    ActionOut,
    AttemptOut,
    CountOut,
    ErrorOut,
    JobDetailOut,
    JobFilter,
    JobOut,
    Name,
    QueueActionOut,
    QueueNameText,
    QueueStatsOut,
    RedriveIn,
    ScheduleOut,
    StatsOut,
    StepOut,
    WorkerOut,
)
from fluffymail.web.deps import AdminAccount, State
from fluffymail.web.errors import Conflict, NotFound
from fluffymail.web.services import jobs as jobs_service

ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["jobs"], responses=ERRORS)
JobId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
QueueName = Annotated[QueueNameText, Path()]


@router.get("/jobs/stats", response_model=StatsOut, summary="Per-queue counts, backlog and workers")
async def stats(state: State, _: AdminAccount) -> StatsOut:
    rows = await jobs_service.queue_rows(state.queue)
    return StatsOut(queues=[QueueStatsOut(**_row(row)) for row in rows])


def _row(row: jobs_service.QueueRow) -> dict[str, object]:
    return {
        "name": row.name,
        "counts": row.counts,
        "available": row.available,
        "oldest_seconds": row.oldest_seconds,
        "workers": row.workers,
        "paused": row.paused,
        "paused_until": row.paused_until,
        "dead_letter": row.dead_letter,
        "is_dead_letter": row.is_dead_letter,
    }


@router.get("/jobs", response_model=list[JobOut], summary="Find jobs (newest first)")
async def list_jobs(
    state: State,
    _: AdminAccount,
    queue: Annotated[QueueNameText | None, Query()] = None,
    job_state: Annotated[list[JobState] | None, Query(alias="state")] = None,
    key: Annotated[Name | None, Query(description="Group key")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after")] = None,
    until: Annotated[datetime | None, Query(description="Created before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobOut]:
    found = await state.queue.find_jobs(
        name=queue, states=job_state, group_key=key, since=since, until=until, limit=limit
    )
    return [JobOut.of(job) for job in found]


@router.get(
    "/jobs/{job_id}",
    response_model=JobDetailOut,
    responses=NOT_FOUND,
    summary="One job with its attempts",
)
async def get_job(job_id: JobId, state: State, _: AdminAccount) -> JobDetailOut:
    job = await state.queue.get_job(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    attempts = [AttemptOut(**row) for row in await state.queue.get_attempts(job_id)]
    steps = [
        StepOut(**asdict(step))
        for step in await Workflows(state.queue).steps(job_id)
        if step.kind != "cancel_on"
    ]
    return JobDetailOut(**JobOut.of(job).model_dump(), attempts=attempts, steps=steps)


async def _act(state: State, job_id: int, action: str) -> ActionOut:
    job = await state.queue.get_job(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    changed = await (state.queue.retry if action == "retry" else state.queue.cancel)(job_id)
    if not changed:
        raise Conflict(
            f"job {job_id} is {job.state}; it cannot be {action}{'ed' if action == 'retry' else 'led'}"
        )
    after = await state.queue.get_job(job_id)
    return ActionOut(id=job_id, state=after.state if after else None)


@router.post(
    "/jobs/{job_id}/retry",
    response_model=ActionOut,
    responses={**NOT_FOUND, 409: {"model": ErrorOut}},
    summary="Retry a failed job",
)
async def retry_job(job_id: JobId, state: State, _: AdminAccount) -> ActionOut:
    return await _act(state, job_id, "retry")


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=ActionOut,
    responses={**NOT_FOUND, 409: {"model": ErrorOut}},
    summary="Cancel a queued or running job",
)
async def cancel_job(job_id: JobId, state: State, _: AdminAccount) -> ActionOut:
    return await _act(state, job_id, "cancel")


def _filters(body: JobFilter) -> dict[str, object]:
    return {
        "name": body.queue,
        "states": [str(s) for s in body.state] if body.state else None,
        "group_key": body.key,
        "since": body.since,
        "until": body.until,
    }


@router.post(
    "/jobs/retry", response_model=CountOut, summary="Retry every failed job matching a filter"
)
async def retry_matching(
    body: Annotated[JobFilter, Body()], state: State, _: AdminAccount
) -> CountOut:
    return CountOut(count=await state.queue.retry_matching(**_filters(body)))


@router.post(
    "/jobs/cancel",
    response_model=CountOut,
    summary="Cancel every queued or running job matching a filter",
)
async def cancel_matching(
    body: Annotated[JobFilter, Body()], state: State, _: AdminAccount
) -> CountOut:
    return CountOut(count=await state.queue.cancel_matching(**_filters(body)))


@router.post(
    "/queues/{name}/pause",
    response_model=QueueActionOut,
    responses=NOT_FOUND,
    summary="Stop workers claiming jobs of a queue",
)
async def pause(name: QueueName, state: State, _: AdminAccount) -> QueueActionOut:
    await state.queue.pause_queue(name)
    return QueueActionOut(queue=name, paused=True)


@router.post(
    "/queues/{name}/resume",
    response_model=QueueActionOut,
    responses=NOT_FOUND,
    summary="Let workers claim jobs of a paused queue again",
)
async def resume(name: QueueName, state: State, _: AdminAccount) -> QueueActionOut:
    await state.queue.resume_queue(name)
    return QueueActionOut(queue=name, paused=False)


@router.post(
    "/queues/{name}/redrive",
    response_model=QueueActionOut,
    responses=NOT_FOUND,
    summary="Send a dead-letter queue's jobs back to their source queues",
)
async def redrive(
    name: QueueName, state: State, _: AdminAccount, body: Annotated[RedriveIn | None, Body()] = None
) -> QueueActionOut:
    moved = await state.queue.redrive(name, limit=body.limit if body else None)
    return QueueActionOut(queue=name, redriven=moved)


@router.get(
    "/schedules", response_model=list[ScheduleOut], summary="Cron schedules with their next run"
)
async def schedules(state: State, _: AdminAccount) -> list[ScheduleOut]:
    return [ScheduleOut(**row) for row in await state.queue.get_schedules()]


@router.get("/workers", response_model=list[WorkerOut], summary="Worker processes alive now")
async def workers(state: State, _: AdminAccount) -> list[WorkerOut]:
    rows = await state.queue.get_workers()
    return [
        WorkerOut(
            **{k: v for k, v in row.items() if k != "silent_for"},
            silent_seconds=row["silent_for"].total_seconds(),
        )
        for row in rows
    ]
