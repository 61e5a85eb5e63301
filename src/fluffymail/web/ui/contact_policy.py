"""The "People who wrote to you" page of a connection: why its mail made no contacts, the people
who wrote and are not contacts (with their message counts) to add one or many, and the
connection's creation policy to change (forms CSRF-checked by `PageSession`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.crm.contacts.policy import DESCRIPTIONS
from fluffymail.web.api.schemas import BIGINT_MAX, JSON_INT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.services import connections as connections_service
from fluffymail.web.services import contact_policy as service
from fluffymail.web.services.accounts import Session

router = APIRouter()
ConnectionId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
PAGE_SIZE = 50
POLICY_LABELS = {
    "sent": "People I write to",
    "sent_and_received": "Everyone I write to or who writes to me",
    "none": "No one",
}
NOTICES = {
    "sent": "New contacts now come from the people you write to.",
    "sent_and_received": "New contacts now come from everyone you write to or who writes to you.",
    "none": "This mailbox now creates no new contacts.",
}
SHORT_LABELS = {  # the connection card's select: "New contacts: …"
    "sent": "people I write to",
    "sent_and_received": "also people who write to me",
    "none": "no one",
}


async def _render(
    request: Request,
    state: State,
    templates: Templates,
    session: Session,
    connection_id: int,
    *,
    offset: int = 0,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    found = await service.people(
        state.pool, session.account.id, connection_id, limit=PAGE_SIZE, offset=offset
    )
    context = {
        "session": session,
        "found": found,
        "policies": [(p, POLICY_LABELS[str(p)], text) for p, text in DESCRIPTIONS.items()],
        "notice": notice,
        "error": error,
        "active": "connections",
    }
    return templates.TemplateResponse(request, "people.html", context, status_code=status)


@router.get("/connections/{connection_id}/people")
async def page(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    added: Annotated[int, Query(ge=0, le=500)] = 0,
    policy: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    notice = policy_notice(policy) if policy else None
    if added:
        who = "1 person is now a contact" if added == 1 else f"{added} people are now contacts"
        notice = f"Added: {who}, whatever the policy."
    return await _render(
        request, state, templates, session, connection_id, offset=offset, notice=notice
    )


def policy_notice(policy: str) -> str | None:
    """What a policy change did, for the page it returns to (None: not a policy)."""
    said = NOTICES.get(policy)
    if said is None:
        return None
    return (
        f"{said} The mail already imported is being updated; contacts you added or worked on stay."
    )


def _ids(values: list[str]) -> list[int] | None:
    """Contact ids from form values; None when one is not an id."""
    try:
        ids = [int(v) for v in values]
    except ValueError:
        return None
    return ids if all(1 <= i <= JSON_INT_MAX for i in ids) else None


@router.post("/connections/{connection_id}/people")
async def add(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    """Add the person whose button was pressed (`only`), or every ticked one."""
    user_id = session.account.id
    await connections_service.get_connection(state.pool, user_id, connection_id)  # 404 first
    form = await request.form()
    only = form.get("only")
    picked = _ids([str(only)] if only else [str(v) for v in form.getlist("contact_id")])
    if not picked:
        error = "Tick the people to add first." if picked == [] else "That is not a person here."
        return await _render(
            request, state, templates, session, connection_id, error=error, status=400
        )
    added = await service.add_people(
        state.pool, state.queue, state.settings, user_id, connection_id, picked
    )
    return RedirectResponse(
        f"/connections/{connection_id}/people?added={len(added)}", status_code=303
    )


@router.post("/connections/{connection_id}/policy")
async def set_policy(
    connection_id: ConnectionId,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
) -> Response:
    """Change who becomes a contact; back to the page the form was on."""
    user_id = session.account.id
    await connections_service.get_connection(state.pool, user_id, connection_id)  # 404 first
    form = await request.form()
    back = "/connections" if form.get("back") == "connections" else None
    try:
        policy = service.parse_policy(str(form.get("policy", "")))
        change = await service.set_policy(state.pool, state.queue, user_id, connection_id, policy)
    except connections_service.ConnectionProblem as exc:
        return await _render(
            request, state, templates, session, connection_id, error=exc.reason, status=exc.status
        )
    target = back or f"/connections/{connection_id}/people"
    return RedirectResponse(f"{target}?policy={change.connection.contact_policy}", status_code=303)
