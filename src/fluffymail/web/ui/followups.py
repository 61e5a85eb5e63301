"""The Follow-ups page and its forms: what is due, done / snooze / dismiss / reopen, the daily
digest page and setting, recompute, and a contact's keep-in-touch cadence (one, or the ticked
contacts of the list). Forms answer with a redirect back (post/redirect/get)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.crm.followups.models import Followup
from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.errors import WebError
from fluffymail.web.services import followups as service

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
FormShort = Annotated[str, Form(max_length=40)]
SNOOZE_HOUR = time(9, tzinfo=UTC)
REASONS = {
    "cadence": "Keep in touch",
    "cold": "Going cold",
    "question": "They asked",
    "promise": "You promised",
    "met": "Met, no mail since",
}


@router.get("/followups")
async def board(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    found = await service.board(state.pool, session.account.id)
    context = {
        "session": session,
        "board": found,
        "reasons": REASONS,
        "active": "followups",
        "acted": await _acted(state, session, request),
    }
    return templates.TemplateResponse(request, "followups.html", context)


async def _acted(state: State, session: PageSession, request: Request) -> Followup | None:
    """The follow-up just marked done or dismissed (`?done=ID`, `?dismiss=ID`, where the
    forms come back to), offered to reopen; None for anything else (a stale or foreign id)."""
    for action in ("done", "dismiss"):
        raw = request.query_params.get(action, "")
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= BIGINT_MAX:
            try:
                found = await service.get(state.pool, session.account.id, int(raw))
            except service.FollowupNotFound:
                return None
            return found if found.state.value == service.ACTIONS[action] else None
    return None


@router.get("/followups/digest")
async def digest(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    """Today's digest: what is due, grouped by why."""
    found = await service.board(state.pool, session.account.id)
    groups = {
        label: [f for f in found.due if f.reason.value == reason]
        for reason, label in REASONS.items()
    }
    context = {
        "session": session,
        "board": found,
        "groups": {k: v for k, v in groups.items() if v},
        "active": "followups",
    }
    return templates.TemplateResponse(request, "followups_digest.html", context)


def _snooze_until(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), SNOOZE_HOUR)
    except ValueError:
        raise WebError("Pick the date to snooze to.") from None


async def _act(
    state: State,
    session: PageSession,
    followup_id: int,
    action: service.Action,
    until: str = "",
    until_reply: str = "",
) -> Response:
    await service.get(state.pool, session.account.id, followup_id)  # 404 before the form's 400
    await service.act(
        state.pool,
        state.queue,
        session.account.id,
        followup_id,
        action,
        until=_snooze_until(until) if action == "snooze" else None,
        until_reply=action == "snooze" and bool(until_reply),
    )
    return RedirectResponse(f"/followups?{action}={followup_id}", status_code=303)


@router.post("/followups/{followup_id}/done")
async def done(followup_id: Id, state: State, session: PageSession) -> Response:
    return await _act(state, session, followup_id, "done")


@router.post("/followups/{followup_id}/dismiss")
async def dismiss(followup_id: Id, state: State, session: PageSession) -> Response:
    return await _act(state, session, followup_id, "dismiss")


@router.post("/followups/{followup_id}/reopen")
async def reopen(followup_id: Id, state: State, session: PageSession) -> Response:
    """Open a follow-up done or dismissed (or snoozed) again."""
    await service.reopen(state.pool, state.queue, session.account.id, followup_id)
    return RedirectResponse(f"/followups?reopened={followup_id}#followup-{followup_id}", 303)


@router.post("/followups/{followup_id}/snooze")
async def snooze(
    followup_id: Id,
    state: State,
    session: PageSession,
    until: FormShort = "",
    until_reply: FormShort = "",
) -> Response:
    """Snooze to the date given, or until they write."""
    return await _act(state, session, followup_id, "snooze", until, until_reply)


@router.post("/followups/settings")
async def settings(state: State, session: PageSession, digest: FormShort = "") -> Response:
    await service.set_digest(state.pool, session.account.id, bool(digest))
    return RedirectResponse("/followups#digest", status_code=303)


@router.post("/followups/recompute")
async def recompute(state: State, session: PageSession) -> Response:
    await service.recompute_now(state.pool, state.queue, session.account.id)
    return RedirectResponse("/followups", status_code=303)


def _days(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not (value.lstrip("-").isascii() and value.lstrip("-").isdigit()) or len(value) > 6:
        raise WebError("The cadence is a whole number of days.")
    return service.check_cadence(int(value))


@router.post("/contacts/{contact_id}/cadence")
async def contact_cadence(
    contact_id: Id, state: State, session: PageSession, days: FormShort = ""
) -> Response:
    """Set the contact's cadence (blank clears it)."""
    await service.set_cadence(
        state.pool, state.queue, session.account.id, [contact_id], _days_checked(days)
    )
    return RedirectResponse(f"/contacts/{contact_id}#followups", status_code=303)


def _days_checked(value: str) -> int | None:
    try:
        return _days(value)
    except service.FollowupRefused as exc:
        raise WebError(str(exc).capitalize() + ".") from None


@router.post("/contacts/cadence")
async def bulk_cadence(
    state: State,
    session: PageSession,
    contact_ids: Annotated[list[str], Form(max_length=service.BULK_MAX)] = [],  # noqa: B006
    days: FormShort = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Set (or clear) the cadence of the contacts ticked in the list."""
    ids = []
    for raw in contact_ids:
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= BIGINT_MAX:
            raise WebError("The contacts must be ticked in the list.")
        ids.append(int(raw))
    if not ids:
        raise WebError("Tick the contacts first.")
    await service.set_cadence(state.pool, state.queue, session.account.id, ids, _days_checked(days))
    query = back if back.startswith("?") and "\n" not in back and "\\" not in back else ""
    return RedirectResponse(f"/contacts{query}", status_code=303)
