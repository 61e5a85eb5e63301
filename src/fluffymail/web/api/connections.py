"""The caller's mail connections: list, detail with recent sync jobs, create (IMAP, Gmail OAuth,
archive upload), "sync now", pause, resume and delete.

Every query carries the caller's user id: someone else's connection answers 404. Connecting
Gmail needs a browser session: the sign-in is stored for the session that started it, and the
callback completes it only in that same logged-in session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.responses import RedirectResponse, Response

from fluffymail.queue import Job
from fluffymail.web import idempotency
from fluffymail.web.api.schemas import (
    BIGINT_MAX,
    ConnectionOut,
    ErrorOut,
    JobOut,
    Name,
    SyncOut,
)
from fluffymail.web.deps import CurrentAccount, OptionalSession, State
from fluffymail.web.errors import NotAuthenticated
from fluffymail.web.idempotency import Idempotent, IdempotentRoute
from fluffymail.web.services import connections as service
from fluffymail.web.services import contact_policy as policy_service
from fluffymail.web.services import gmail_oauth, sync_progress, uploads
from fluffymail.web.services.accounts import Session

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
STATE_ERRORS = {**NOT_FOUND, 409: {"model": ErrorOut}}
router = APIRouter(
    prefix="/api", tags=["connections"], responses=ERRORS, route_class=IdempotentRoute
)
ConnectionId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
Text = Annotated[str, Field(max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$")]
Visibility = Literal["full", "metadata"]
ContactPolicy = Literal["sent", "sent_and_received", "none"]
POLICY_HELP = (
    "Who becomes a contact: sent (people you write to; the default), sent_and_received (also"
    " people who write to you), none (no one). A change is applied to mail already imported"
    " by the apply-contact-policy job; contacts you added or worked on always stay"
)


class SyncProgressOut(BaseModel):
    """A running sync's workflow run: read the mail, find the people in it, score them."""

    run_id: int = Field(
        description="The run (its sync job): GET /api/jobs/{run_id} lists its steps"
    )
    phase: Literal["reading", "extracting", "scoring", "indexing"]
    batches_done: int = Field(description="Batches of the phase finished (extracting, indexing)")
    batches_total: int = Field(description="Batches of the phase sent so far")
    contacts: int = Field(description="Your contacts now")
    scored: int = Field(description="Relationships with a score above 0 now")
    eta_seconds: float | None = Field(
        default=None, description="Seconds left in this phase at its rate so far"
    )


class ConnectionStateOut(ConnectionOut):
    paused_on: datetime | None = None
    deleting_on: datetime | None = None
    visibility: Visibility = Field(
        default="full", description="full: bodies may go to the external AI; metadata: never"
    )
    contact_policy: ContactPolicy = Field(default="sent", description=POLICY_HELP)
    state: str = Field(
        description="deleting, paused, stalled (syncing, but the server silent for 8 s or"
        " more), waiting (no sync has run yet), or the sync status (ok, syncing, failed,"
        " needs_reauth)"
    )
    retry_note: str | None = Field(
        default=None,
        description='A failed sync: when it is tried again, in words ("next try in 40 s, 2'
        ' tries left", or that only the 15-minute schedule or Sync now will)',
    )
    progress_folder: str | None = Field(default=None, description="The folder a sync reads")
    stalled_seconds: int | None = Field(
        default=None, description="How long the server of a stalled sync has been silent"
    )
    calendar_synced_on: datetime | None = Field(
        default=None, description="Gmail: when its Google Calendar last synced"
    )
    calendar_error: str | None = Field(
        default=None, description="Gmail: why its calendar is not read (e.g. reconnect to share it)"
    )
    progress: SyncProgressOut | None = Field(
        default=None, description="While its sync's run goes: its phase, counts and ETA"
    )


class ConnectionSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visibility: Visibility | None = Field(
        default=None,
        description="full: bodies may be sent to the external AI; metadata: never (offline summaries)",
    )
    contact_policy: ContactPolicy | None = Field(default=None, description=POLICY_HELP)


class ConnectionUpdatedOut(ConnectionStateOut):
    policy_job_id: int | None = Field(
        default=None,
        description="The apply-contact-policy job a policy change sent (null: none was needed"
        " or one was already queued)",
    )


class ConnectionStateDetailOut(ConnectionStateOut):
    recent_jobs: list[JobOut]


class CreatedOut(BaseModel):
    connection: ConnectionStateOut
    created: bool = Field(description="False: an existing connection got new credentials")
    job_id: int | None = Field(description="The first sync job; null when one was already queued")


class ResumedOut(BaseModel):
    connection: ConnectionStateOut
    job_id: int | None = Field(description="The sync job sent on resuming")


class DeletingOut(BaseModel):
    connection_id: int
    job_id: int | None = Field(description="The delete-connection job; null when already queued")


class AuthorizeOut(BaseModel):
    authorization_url: str = Field(description="Send the user here to grant read access to Gmail")
    state: str


class ImapIn(BaseModel):
    """An IMAP account; the password is used for a test login, then stored encrypted."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9._:\[\]-]+$",
        examples=["imap.example.com"],
    )
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "plain"] = Field(
        default="ssl",
        description="ssl: TLS from the start (993); starttls: upgrade (143); plain: none",
    )
    username: Annotated[str, Field(min_length=1, max_length=320, pattern=r"^[^\x00-\x1f\x7f]+$")]
    password: SecretStr = Field(min_length=1, max_length=1024)
    folders: list[Name] | None = Field(
        default=None,
        max_length=500,
        description="Only these folders (default: all but Drafts, Trash and Spam)",
    )
    display_name: Text = ""


def _out(view: service.ConnectionView) -> ConnectionStateOut:
    return ConnectionStateOut.model_validate(view, from_attributes=True)


@router.get(
    "/connections", response_model=list[ConnectionStateOut], summary="Your mail connections"
)
async def list_connections(state: State, account: CurrentAccount) -> list[ConnectionStateOut]:
    views = await service.list_connections(state.pool, account.id)
    now = await service.db_now(state.pool)
    syncs = await service.recent_syncs(state.queue)
    views = await sync_progress.with_progress(
        state.pool, state.queue, account.id, views, now, syncs
    )
    views = service.with_retry_notes(syncs, account.id, views, now)
    return [_out(view) for view in views]


@router.post(
    "/connections/imap",
    response_model=CreatedOut,
    status_code=201,
    responses={
        **ERRORS,
        400: {"model": ErrorOut},
        **idempotency.RESPONSES,
        429: {"model": ErrorOut},
    },
    dependencies=[Idempotent],
    summary="Add an IMAP account (after a test login), sync it now and every 15 minutes",
)
async def create_imap(
    body: ImapIn, response: Response, state: State, account: CurrentAccount
) -> CreatedOut:
    details = service.ImapAccount(
        host=body.host,
        port=body.port,
        security=body.security,
        username=body.username,
        password=body.password.get_secret_value(),
        folders=tuple(body.folders) if body.folders else None,
        display_name=body.display_name,
    )
    created = await service.create_imap(
        state.pool,
        state.queue,
        state.settings,
        account.id,
        details,
        tests=state.connection_tests,
    )
    if not created.created:
        response.status_code = 200
    return CreatedOut(
        connection=_out(created.connection), created=created.created, job_id=created.job_id
    )


@router.get(
    "/connections/gmail/authorize",
    response_model=AuthorizeOut,
    responses={**ERRORS, 403: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    summary="Start connecting Gmail (logged-in browser session only): the Google sign-in URL",
)
async def gmail_authorize(
    request: Request, state: State, account: CurrentAccount, session: OptionalSession
) -> AuthorizeOut:
    gmail_oauth.ensure_configured(state.settings)
    if session is None or session.account.id != account.id:
        raise service.ConnectionProblem(
            403, "oauth_needs_session",
            "connect Gmail from a logged-in browser: Google's answer can only complete in "
            "the session that started the sign-in",
        )  # fmt: skip
    auth = await gmail_oauth.authorization(
        state.pool, state.settings, session, callback_url(request)
    )
    return AuthorizeOut(authorization_url=auth.url, state=auth.state)


def callback_url(request: Request) -> str:
    """The OAuth redirect URI: the configured one, else this server's callback route."""
    configured = request.app.state.fm.settings.gmail_redirect_uri
    return configured or str(request.url_for("gmail_callback"))


@router.get(
    "/connections/gmail/callback",
    name="gmail_callback",
    response_model=CreatedOut,
    responses={**ERRORS, 400: {"model": ErrorOut}, 502: {"model": ErrorOut}},
    summary="Where Google sends the user back: exchanges the code and creates the connection",
)
async def gmail_callback(
    request: Request,
    state: State,
    session: OptionalSession,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    oauth_state: Annotated[str, Query(alias="state", min_length=1, max_length=4096)] = "",
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response | CreatedOut:
    browser = "text/html" in request.headers.get("accept", "")
    if session is None:  # nothing is taken or created: only the starting session may finish
        if browser:
            return RedirectResponse("/login?next=/connections", status_code=303)
        raise NotAuthenticated("log in first: Google's answer completes only in your session")
    try:
        created = await _gmail_callback(state, session, code, oauth_state, error)
    except service.ConnectionProblem as exc:
        if browser:
            return RedirectResponse(f"/connections?gmail={exc.code}", status_code=303)
        raise
    if browser:  # the page says which account, and whether it was new or signed in again
        outcome = "connected" if created.created else "reconnected"
        where = f"/connections?gmail={outcome}&connection={created.connection.id}"
        return RedirectResponse(where, status_code=303)
    return CreatedOut(
        connection=_out(created.connection), created=created.created, job_id=created.job_id
    )


async def _gmail_callback(
    state: State, session: Session, code: str | None, raw_state: str, error: str | None
) -> service.Created:
    pending = await gmail_oauth.take_state(state.pool, session, raw_state)
    if error:
        raise service.ConnectionProblem(
            400, "oauth_denied", f"Google sign-in did not complete: {error}"
        )
    if not code:
        raise service.ConnectionProblem(400, "oauth_no_code", "Google sent no authorisation code")
    return await gmail_oauth.complete(
        state.pool, state.queue, state.settings, code=code, pending=pending
    )


async def request_body(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives (never buffered whole)."""
    try:
        stream = request.stream()
        async for chunk in stream:
            yield chunk
    except RuntimeError as exc:  # the body was already read, for a CSRF form field
        raise service.ConnectionProblem(
            400, "bad_upload", "send the CSRF token in the X-CSRF-Token header when uploading"
        ) from exc


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "An mbox file, or a zip/tar(.gz) of a Maildir or of mbox files",
                        },
                        "display_name": {"type": "string", "maxLength": 200},
                    },
                }
            }
        },
    }
}


@router.post(
    "/connections/upload",
    response_model=CreatedOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses={
        **ERRORS,
        400: {"model": ErrorOut},
        413: {"model": ErrorOut},
        415: {"model": ErrorOut},
        429: {"model": ErrorOut},
    },
    summary="Upload an mbox file or a Maildir archive; a job imports it",
    description="An mbox file imported before (uploaded or imported again, moved, grown) goes to"
    " its connection (`created` false), which reads this copy from now on: only what is"
    " missing is stored.",
)
async def upload(request: Request, state: State, account: CurrentAccount) -> CreatedOut:
    created = await uploads.import_upload(
        request_body(request),
        request.headers,
        pool=state.pool,
        queue=state.queue,
        settings=state.settings,
        user_id=account.id,
        in_flight=state.uploads,
    )
    return CreatedOut(
        connection=_out(created.connection), created=created.created, job_id=created.job_id
    )


@router.get(
    "/connections/{connection_id}",
    response_model=ConnectionStateDetailOut,
    responses=NOT_FOUND,
    summary="One of your connections with its recent sync jobs",
)
async def get_connection(
    connection_id: ConnectionId, state: State, account: CurrentAccount
) -> ConnectionStateDetailOut:
    view = await service.get_connection(state.pool, account.id, connection_id)
    jobs = await service.recent_sync_jobs(state.queue, account.id, connection_id)
    now = await service.db_now(state.pool)
    [view] = service.with_retry_notes(jobs, account.id, [view], now)
    return ConnectionStateDetailOut(
        **_out(view).model_dump(), recent_jobs=[_owner_job(job) for job in jobs]
    )


def _owner_job(job: Job) -> JobOut:
    """A sync job as the connection's owner sees it: a failed attempt's error in words, not
    the traceback and raw message the queue keeps for operators (server paths, code), and no
    worker host."""
    shown = JobOut.of(job)
    output = job.output
    if isinstance(output, dict) and "traceback" in output:
        error = service.attempt_error(str(output.get("message", "")))
        shown = shown.model_copy(update={"output": {"error": error}})
    return shown.model_copy(update={"worker": None})


@router.post(
    "/connections/{connection_id}/sync",
    response_model=SyncOut,
    status_code=202,
    responses=STATE_ERRORS,
    summary="Sync now, and every 15 minutes from now on",
)
async def sync(connection_id: ConnectionId, state: State, account: CurrentAccount) -> SyncOut:
    request = await service.request_sync(state.pool, state.queue, account.id, connection_id)
    return SyncOut(
        connection_id=request.connection_id, job_id=request.job_id, schedule=request.schedule
    )


@router.patch(
    "/connections/{connection_id}",
    response_model=ConnectionUpdatedOut,
    responses={**STATE_ERRORS, 400: {"model": ErrorOut}},
    summary="Change a connection's settings: what the AI may read, who becomes a contact",
)
async def update(
    connection_id: ConnectionId, body: ConnectionSettingsIn, state: State, account: CurrentAccount
) -> ConnectionUpdatedOut:
    job_id = None
    view = await service.get_connection(state.pool, account.id, connection_id)
    if body.visibility is None and body.contact_policy is None:
        raise service.ConnectionProblem(
            400, "nothing_to_change", "give visibility, contact_policy or both"
        )
    if body.visibility is not None:
        view = await service.set_visibility(state.pool, account.id, connection_id, body.visibility)
    if body.contact_policy is not None:
        policy = policy_service.parse_policy(body.contact_policy)
        change = await policy_service.set_policy(
            state.pool, state.queue, account.id, connection_id, policy
        )
        view, job_id = change.connection, change.job_id
    return ConnectionUpdatedOut(**_out(view).model_dump(), policy_job_id=job_id)


@router.post(
    "/connections/{connection_id}/pause",
    response_model=ConnectionStateOut,
    responses=STATE_ERRORS,
    summary="Stop syncing (the mail already read stays)",
)
async def pause(
    connection_id: ConnectionId, state: State, account: CurrentAccount
) -> ConnectionStateOut:
    return _out(await service.pause(state.pool, state.queue, account.id, connection_id))


@router.post(
    "/connections/{connection_id}/resume",
    response_model=ResumedOut,
    responses=STATE_ERRORS,
    summary="Sync again: now and every 15 minutes",
)
async def resume(connection_id: ConnectionId, state: State, account: CurrentAccount) -> ResumedOut:
    view, request = await service.resume(state.pool, state.queue, account.id, connection_id)
    return ResumedOut(connection=_out(view), job_id=request.job_id)


@router.delete(
    "/connections/{connection_id}",
    response_model=DeletingOut,
    status_code=202,
    responses=NOT_FOUND,
    summary="Delete the connection and the mail only it holds (in a job)",
)
async def delete(connection_id: ConnectionId, state: State, account: CurrentAccount) -> DeletingOut:
    job_id = await service.delete(state.pool, state.queue, account.id, connection_id)
    return DeletingOut(connection_id=connection_id, job_id=job_id)
