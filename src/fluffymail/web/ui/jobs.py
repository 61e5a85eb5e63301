"""The jobs dashboard (admins): counts, backlog, throughput chart, failures with Retry, dead
letters with Redrive, schedules and workers. The panel re-renders every few seconds (htmx)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from fluffymail.web.api.schemas import BIGINT_MAX, Name
from fluffymail.web.deps import AdminPageSession, State, Templates
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
