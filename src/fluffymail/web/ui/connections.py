"""The connections page: the user's mailboxes with live sync status, "Sync now", pause, resume
and delete, and the forms that add one (archive upload with progress, IMAP, Gmail) or import
a calendar file."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request, UploadFile
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from fluffymail.crm.contacts.extraction import Policy
from fluffymail.web.api.connections import ImapIn, callback_url, request_body
from fluffymail.web.api.meetings import ICS_MAX_BYTES
from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.services import connections as service
from fluffymail.web.services import contact_policy as policy_service
from fluffymail.web.services import gmail_oauth, meetings, sync_progress, uploads
from fluffymail.web.services.accounts import Session
from fluffymail.web.ui import contact_policy, gmail_notices

router = APIRouter()
POLL_SECONDS = 3
ConnectionId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
CHANGED = {"HX-Trigger": "connections-changed"}  # the list refreshes at once
IMAP_FIELDS = ("host", "port", "security", "username", "password", "folders", "display_name")


def _forms(state: State, **extra: Any) -> dict[str, Any]:
    return {
        "gmail_ready": gmail_oauth.configured(state.settings),
        "upload_limit": uploads.size_text(state.settings.upload_max_bytes),
        "imap": {"port": "993", "security": "ssl"},
        "imap_errors": {},
        **extra,
    }


async def _render(
    request: Request,
    state: State,
    templates: Templates,
    session: Session,
    template: str,
    notice: str | None = None,
    error: str | None = None,
    headers: dict[str, str] | None = None,
    fresh: bool = False,
    **extra: Any,
) -> Response:
    """`fresh`: read the explanations again (the whole page); the polled list may reuse them."""
    items = await service.list_connections(state.pool, session.account.id)
    now = await service.db_now(state.pool)
    syncs = await service.recent_syncs(state.queue)
    items = service.with_retry_notes(syncs, session.account.id, items, now)
    items = await sync_progress.with_progress(
        state.pool, state.queue, session.account.id, items, now, syncs
    )
    context = {
        "session": session,
        "connections": items,
        "explained": await policy_service.explanations(
            state.pool, session.account.id, items, cache=state.explanations, refresh=fresh
        ),
        "policy_labels": contact_policy.SHORT_LABELS,
        "notice": notice,
        "error": error,
        "now": now,
        "poll": POLL_SECONDS,
        "active": "connections",
        **_forms(state),
        **extra,
    }
    return templates.TemplateResponse(request, template, context, headers=headers)


@router.get("/connections")
async def page(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    gmail: str | None = None,
    policy: Annotated[str, Query(max_length=40)] = "",
    connection: Annotated[str, Query(max_length=20)] = "",
    reconnect: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """`reconnect`: one of the user's IMAP connections to sign in again: the form shows its
    saved details, and only the password is to be typed."""
    flash = None
    if notice := contact_policy.policy_notice(policy):
        flash = ("ok", notice)
    if gmail:
        flash = await gmail_notices.flash(state, session.account.id, gmail[:40], connection)
    form: dict[str, Any] = {}
    if (reconnect_id := gmail_notices.row_id(reconnect)) and (
        saved := await service.imap_details(
            state.pool, state.settings, session.account.id, reconnect_id
        )
    ):
        form = {"imap": saved, "imap_note": _reconnect_note(saved)}
    return await _render(
        request, state, templates, session, "connections.html", flash=flash, fresh=True, **form
    )


def _reconnect_note(saved: dict[str, str]) -> str:
    return (
        f"Enter the current password of {saved['display_name'] or saved['username']}; the"
        " other details are as saved. Change them only if the server's have changed."
    )


@router.get("/connections/list")
async def listing(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    return await _render(request, state, templates, session, "partials/connections_list.html")


@router.post("/connections/{connection_id}/sync")
async def sync(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    try:
        result = await service.request_sync(
            state.pool, state.queue, session.account.id, connection_id
        )
    except service.ConnectionProblem as exc:
        if exc.code == "already_imported":
            return await _list(
                request, state, templates, session, notice=exc.reason, offer_upload=True
            )
        return await _list(request, state, templates, session, error=exc.reason)
    notice = (
        "Sync queued; it also runs every 15 minutes."
        if result.job_id
        else "A sync is already queued for this connection."
    )
    return await _list(request, state, templates, session, notice=notice)


async def _list(
    request: Request, state: State, templates: Templates, session: Session, **extra: Any
) -> Response:
    """The list with a `notice` or an `error` (and `offer_upload`: a link to the upload form)."""
    return await _render(
        request, state, templates, session, "partials/connections_list.html", **extra
    )


@router.post("/connections/{connection_id}/pause")
async def pause(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    try:
        view = await service.pause(state.pool, state.queue, session.account.id, connection_id)
    except service.ConnectionProblem as exc:
        return await _list(request, state, templates, session, error=exc.reason)
    return await _list(
        request,
        state,
        templates,
        session,
        notice=f"Paused {view.label}: it will not sync until you resume it.",
    )


@router.post("/connections/{connection_id}/visibility")
async def visibility(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    value: Annotated[str, Form(alias="visibility")],
) -> Response:
    if value not in ("full", "metadata"):
        return await _list(request, state, templates, session, error="unknown visibility")
    try:
        view = await service.set_visibility(state.pool, session.account.id, connection_id, value)
    except service.ConnectionProblem as exc:
        return await _list(request, state, templates, session, error=exc.reason)
    notice = (
        f"{view.label}: message bodies stay in FluffyMail; its contacts get offline summaries."
        if value == "metadata"
        else f"{view.label}: the AI may summarise its mail."
    )
    return await _list(request, state, templates, session, notice=notice)


@router.post("/connections/{connection_id}/resume")
async def resume(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    try:
        view, _ = await service.resume(state.pool, state.queue, session.account.id, connection_id)
    except service.ConnectionProblem as exc:
        return await _list(request, state, templates, session, error=exc.reason)
    notice = f"Resumed {view.label}: syncing now and every 15 minutes."
    if view.status == "needs_reauth":  # nothing signs in until new credentials come
        again = "connect Gmail again" if view.kind == "gmail" else "enter its current password"
        notice = f"Resumed {view.label}; it syncs once you {again}."
    return await _list(request, state, templates, session, notice=notice)


@router.post("/connections/{connection_id}/delete")
async def delete(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    view = await service.get_connection(state.pool, session.account.id, connection_id)
    await service.delete(state.pool, state.queue, session.account.id, connection_id)
    return await _list(
        request,
        state,
        templates,
        session,
        notice=f"Deleting {view.label} and the mail only it holds.",
    )


@router.post("/connections/upload")
async def upload(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    try:
        created = await uploads.import_upload(
            request_body(request),
            request.headers,
            pool=state.pool,
            queue=state.queue,
            settings=state.settings,
            user_id=session.account.id,
            in_flight=state.uploads,
        )
    except service.ConnectionProblem as exc:
        return templates.TemplateResponse(
            request,
            "partials/connections_upload.html",
            {**_forms(state), "upload_error": exc.reason},
        )
    return templates.TemplateResponse(
        request,
        "partials/connections_upload.html",
        {**_forms(state), "upload_ok": _uploaded(created)},
        headers=CHANGED,
    )


def _uploaded(created: service.Created) -> str:
    label = created.connection.label
    if created.created:
        return f"{label} uploaded; importing it now."
    return f"{label} was imported before; adding only what is new in this copy now."


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


@router.post("/connections/ics")
async def import_ics(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    file: UploadFile,
    contact_policy: Annotated[
        Literal["sent", "sent_and_received", "none"], Form(max_length=40)
    ] = "sent",
) -> Response:
    context = await _import_ics(state, session.account.id, file, Policy(contact_policy))
    return templates.TemplateResponse(request, "partials/connections_ics.html", context)


async def _import_ics(
    state: State, user_id: int, file: UploadFile, policy: Policy
) -> dict[str, str]:
    """The form's message: what the file brought, or why it brought nothing."""
    try:
        data = await file.read(ICS_MAX_BYTES + 1)
    except ValueError:  # closed: the form was parsed for its CSRF field (deps.py)
        return {"ics_error": "Reload the page and try again."}
    if len(data) > ICS_MAX_BYTES:
        return {"ics_error": f"A calendar file may be at most {ICS_MAX_BYTES // 2**20} MB."}
    try:
        done = await meetings.import_ics(state.pool, state.queue, user_id, data, policy=policy)
    except meetings.IcsRefused as exc:
        return {"ics_error": f"That file could not be read as a calendar: {exc}"}
    return {
        "ics_ok": f"{_count(done.stored, 'meeting')} imported ({done.removed:,} removed,"
        f" {_count(done.contacts_created, 'new contact')}); scores update shortly."
    }


@router.post("/connections/imap")
async def add_imap(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in IMAP_FIELDS}
    values["password"] = str(form.get("password", ""))

    def again(errors: dict[str, str], problem: str | None = None) -> Response:
        shown = {k: v for k, v in values.items() if k != "password"}
        return templates.TemplateResponse(
            request,
            "partials/connections_imap.html",
            {
                **_forms(state),
                "imap": shown,
                "imap_errors": errors,
                "imap_problem": problem,
                "imap_open": True,
            },
        )

    try:
        body = ImapIn.model_validate(_imap_input(values))
    except ValidationError as exc:
        return again(_field_errors(exc))
    account = service.ImapAccount(
        host=body.host,
        port=body.port,
        security=body.security,
        username=body.username,
        password=body.password.get_secret_value(),
        folders=tuple(body.folders) if body.folders else None,
        display_name=body.display_name,
    )
    try:
        created = await service.create_imap(
            state.pool,
            state.queue,
            state.settings,
            session.account.id,
            account,
            tests=state.connection_tests,
        )
    except service.ConnectionProblem as exc:
        field = {"imap_login_failed": "password", "imap_folder_missing": "folders"}.get(exc.code)
        return again({field: exc.reason} if field else {}, None if field else exc.reason)
    return templates.TemplateResponse(
        request,
        "partials/connections_imap.html",
        {**_forms(state), "imap_ok": _imap_saved(created)},
        headers=CHANGED,
    )


def _imap_saved(created: service.Created) -> str:
    """What adding an IMAP account did: a new connection, or an existing one signed in again
    (syncing, unless it is paused)."""
    view = created.connection
    if created.created:
        return f"{view.label} added; the first sync has started."
    if view.paused:
        return f"{view.label} is signed in again. It is paused: resume it to sync."
    return f"{view.label} is signed in again; it syncs now and every 15 minutes."


def _imap_input(values: dict[str, str]) -> dict[str, Any]:
    folders = [f.strip() for f in values["folders"].split(",") if f.strip()]
    data: dict[str, Any] = {
        k: values[k] for k in ("host", "security", "username", "password", "display_name")
    }
    data["port"] = values["port"] or "993"
    data["folders"] = folders or None
    return data


def _field_errors(exc: ValidationError) -> dict[str, str]:
    messages = {
        "host": "Enter the server's host name, e.g. imap.example.com.",
        "port": "Use a port from 1 to 65535.",
        "username": "Enter the account's user name (often the email address).",
        "password": "Enter the account's password (or an app password).",
        "security": "Choose how to secure the connection.",
        "folders": "Folder names must be 1 to 200 printable characters, separated by commas.",
        "display_name": "Use at most 320 printable characters.",
    }
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        errors.setdefault(field, messages.get(field, str(error["msg"])))
    return errors


@router.get("/connections/gmail/connect")
async def connect_gmail(
    request: Request,
    state: State,
    session: PageSession,
    account: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Off to Google's consent screen; back at the API callback, which returns here.
    `account`: the user's Gmail connection signing in again (Google is told its address)."""
    hint = None
    if account_id := gmail_notices.row_id(account):
        with contextlib.suppress(service.ConnectionNotFound):
            view = await service.get_connection(state.pool, session.account.id, account_id)
            hint = view.source if view.kind == "gmail" else None
    try:
        auth = await gmail_oauth.authorization(
            state.pool, state.settings, session, callback_url(request), login_hint=hint
        )
    except service.ConnectionProblem as exc:
        return RedirectResponse(f"/connections?gmail={exc.code}", status_code=303)
    return RedirectResponse(auth.url, status_code=303)
