"""The import page: upload a CSV or vCard file of contacts (or a CSV of companies), see the
preview (how each column was read, the first rows, the rows left out and why), confirm it,
and follow its report while the import-records job runs; export links for everything."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.crm.imports.reading import ENCODINGS
from fluffymail.web.api.connections import request_body
from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import NotFound
from fluffymail.web.services import imports as service
from fluffymail.web.services import uploads
from fluffymail.web.services.accounts import Session

router = APIRouter()
ImportId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
ROWS_SHOWN = 100
POLL_SECONDS = 2
FIELD_NAMES = {
    "email": "Email address",
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "company_domain": "Company domain",
    "website": "Website",
    "title": "Job title",
    "phone": "Phone",
    "tags": "Tags",
    "notes": "Notes",
}


def _context(session: Session, **extra: Any) -> dict[str, Any]:
    return {
        "session": session,
        "active": "contacts",
        "encodings": ENCODINGS,
        "limit": uploads.size_text(service.MAX_BYTES),
        "max_rows": service.MAX_ROWS,
        "field_names": FIELD_NAMES,
        **extra,
    }


@router.get("/import")
async def import_page(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    runs = await service.list_runs(state.pool, session.account.id)
    return templates.TemplateResponse(request, "import.html", _context(session, runs=runs))


@router.post("/import")
async def upload(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    """The upload form (sent by htmx with its CSRF header): to the preview, or the form again
    with the reason the file was refused."""
    user_id = session.account.id
    kind = "contacts"
    try:
        received = await service.receive(
            request_body(request), request.headers, settings=state.settings, user_id=user_id,
            in_flight=state.uploads,
        )  # fmt: skip
        kind = "companies" if received.fields.get("kind") == "companies" else "contacts"
        found = await service.stage(
            state.pool, user_id, received, kind=kind,
            encoding=received.fields.get("encoding") or None,
            region=received.fields.get("region") or None,
        )  # fmt: skip
    except service.ImportProblem as exc:
        context = _context(session, error=exc.reason, kind=kind)
        return templates.TemplateResponse(request, "partials/import_upload.html", context)
    return Response(status_code=204, headers={"HX-Redirect": f"/import/{found.run['id']}"})


@router.get("/import/{import_id}")
async def import_run(
    import_id: ImportId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    """A run: its preview until confirmed, then its report (refreshed while it runs)."""
    try:
        found = await service.preview(state.pool, session.account.id, import_id)
        _, rows = await service.run_rows(
            state.pool, session.account.id, import_id, limit=ROWS_SHOWN, offset=0
        )
    except service.ImportProblem as exc:
        raise NotFound(exc.reason) from exc
    context = _context(session, found=found, run=found.run, rows=rows, poll=POLL_SECONDS)
    return templates.TemplateResponse(request, "import_run.html", context)


@router.post("/import/{import_id}/confirm")
async def confirm(import_id: ImportId, state: State, session: PageSession) -> Response:
    try:
        await service.confirm(state.pool, state.queue, session.account.id, import_id)
    except service.ImportProblem as exc:
        if exc.status == 404:
            raise NotFound(exc.reason) from exc
    return RedirectResponse(f"/import/{import_id}", status_code=303)
