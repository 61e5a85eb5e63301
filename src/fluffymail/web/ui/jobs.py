"""The jobs dashboard (admins): counts, backlog, throughput chart, failures with Retry, dead
letters with Redrive, schedules and workers; and one job's page (attempts, and a workflow run's
steps and progress). Panels re-render every few seconds (htmx), a job's while it is live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.web.api.schemas import BIGINT_MAX, Name
from fluffymail.web.deps import AdminPageSession, State, Templates
from fluffymail.web.errors import NotFound
from fluffymail.web.services import jobs as jobs_service
from fluffymail.web.services.accounts import Session
from fluffymail.web.ui.charts import throughput_chart

router = APIRouter()
POLL_SECONDS = 5


async def _render(
    request: Request,
    state: State,
    templates: Templates,
    session: Session,
    template: str,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    board = await jobs_service.dashboard(state.queue)
    context = {
        "session": session,
        "board": board,
        "chart": throughput_chart(board.throughput),
        "notice": notice,
        "poll": POLL_SECONDS,
        "active": "jobs",
    }
    return templates.TemplateResponse(request, template, context, status_code=status)


@router.get("/jobs")
async def page(
    request: Request, state: State, templates: Templates, session: AdminPageSession
) -> Response:
    return await _render(request, state, templates, session, "jobs.html")


@router.get("/jobs/panel")
async def panel(
    request: Request, state: State, templates: Templates, session: AdminPageSession
) -> Response:
    return await _render(request, state, templates, session, "partials/jobs_panel.html")


@router.get("/jobs/find")
async def find(
    job_id: Annotated[int, Query(alias="id", ge=1, le=BIGINT_MAX)], _: AdminPageSession
) -> Response:
    """The dashboard's "Open job #" form."""
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


JobId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


async def _render_job(
    request: Request,
    state: State,
    templates: Templates,
    session: Session,
    job_id: int,
    template: str,
) -> Response:
    found = await jobs_service.job_page(state.queue, job_id)
    if found is None:
        raise NotFound(f"no job {job_id}")
    context = {"session": session, "page": found, "poll": POLL_SECONDS, "active": "jobs"}
    return templates.TemplateResponse(request, template, context)


@router.get("/jobs/{job_id}")
async def job(
    job_id: JobId, request: Request, state: State, templates: Templates, session: AdminPageSession
) -> Response:
    return await _render_job(request, state, templates, session, job_id, "job.html")


@router.get("/jobs/{job_id}/panel")
async def job_panel(
    job_id: JobId, request: Request, state: State, templates: Templates, session: AdminPageSession
) -> Response:
    return await _render_job(request, state, templates, session, job_id, "partials/job_panel.html")


@router.post("/jobs/{job_id}/retry")
async def retry(
    job_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    request: Request,
    state: State,
    templates: Templates,
    session: AdminPageSession,
) -> Response:
    retried = await state.queue.retry(job_id)
    notice = f"Job {job_id} queued for retry." if retried else f"Job {job_id} is no longer failed."
    return await _render(request, state, templates, session, "partials/jobs_panel.html", notice)


@router.post("/queues/{name}/redrive")
async def redrive(
    name: Annotated[Name, Path()],
    request: Request,
    state: State,
    templates: Templates,
    session: AdminPageSession,
) -> Response:
    moved = await state.queue.redrive(name)
    notice = f"{moved:,} dead letter{'s' if moved != 1 else ''} sent back from {name}."
    return await _render(request, state, templates, session, "partials/jobs_panel.html", notice)


@router.post("/queues/{name}/{action}")
async def pause_resume(
    name: Annotated[Name, Path()],
    action: Annotated[str, Path(pattern="^(pause|resume)$")],
    request: Request,
    state: State,
    templates: Templates,
    session: AdminPageSession,
) -> Response:
    if action == "pause":
        await state.queue.pause_queue(name)
    else:
        await state.queue.resume_queue(name)
    notice = f"Queue {name} {'paused' if action == 'pause' else 'resumed'}."
    return await _render(request, state, templates, session, "partials/jobs_panel.html", notice)
