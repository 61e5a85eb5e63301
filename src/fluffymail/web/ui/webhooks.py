"""The Webhooks pages: the workspace's subscriptions and a new one (its secret shown once,
on the page that answers the form), a webhook's settings and delivery log with "Resend",
"Send test event", secret rotation and delete. Other forms answer with a redirect back. A
member sees each URL's scheme and host, and no owner-only form (refused with 403 if sent)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from fluffymail.crm.webhooks.models import EVENT_KINDS
from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import PageSession, State, Templates
from fluffymail.web.services import team as team_service
from fluffymail.web.services import webhooks as service

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
FormUrl = Annotated[str, Form(max_length=2000)]
FormText = Annotated[str, Form(max_length=service.DESCRIPTION_MAX)]
FormEvents = Annotated[list[str], Form(max_length=len(EVENT_KINDS))]
FormFlag = Annotated[str, Form(max_length=5)]
EVENTS = {
    "contact.created": "A contact is added (by hand, or their mail makes them one)",
    "contact.updated": "A contact's name, company, title, phone or hidden state changes",
    "relationship.changed": "A relationship passes a strength level, or starts or stops going cold",
    "followup.due": "A follow-up comes due",
    "followups.due": "The daily digest of follow-ups due (when it is on)",
    "sync.failed": "A mail connection's sync fails",
}


@router.get("/webhooks")
async def webhooks_page(
    request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    found = await service.list_webhooks(state.pool, session.account.id)
    context = {
        "session": session,
        "webhooks": found,
        "workspace": await team_service.my_workspace(state.pool, session.account.id),
        "events": EVENTS,
        "active": "webhooks",
    }
    return templates.TemplateResponse(request, "webhooks.html", context)


@router.post("/webhooks")
async def create_webhook(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    url: FormUrl = "",
    description: FormText = "",
    events: FormEvents = [],  # noqa: B006
) -> Response:
    """Subscribe, and show the secret on the webhook's page this once."""
    made = await service.create(
        state.pool,
        state.settings,
        session.account.id,
        url=url,
        events=events,
        description=description,
    )
    return await _page(request, state, templates, session, made.webhook.id, secret=made.secret)


@router.get("/webhooks/{webhook_id}")
async def webhook_page(
    webhook_id: Id,
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    before: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> Response:
    return await _page(request, state, templates, session, webhook_id, before=before)


async def _page(
    request: Request,
    state: State,
    templates: Templates,
    session: PageSession,
    webhook_id: int,
    *,
    secret: str | None = None,
    before: int | None = None,
) -> Response:
    user_id = session.account.id
    found = await service.get(state.pool, user_id, webhook_id)
    log = await service.deliveries(state.pool, user_id, webhook_id, before=before)
    context: dict[str, Any] = {
        "session": session,
        "w": found,
        "deliveries": log,
        "older": log[-1].id if len(log) == service.LOG_LIMIT else None,
        "secret": secret,
        "workspace": await team_service.my_workspace(state.pool, user_id),
        "events": EVENTS,
        "active": "webhooks",
    }
    return templates.TemplateResponse(request, "webhook.html", context)


@router.post("/webhooks/{webhook_id}/edit")
async def edit_webhook(
    webhook_id: Id,
    state: State,
    session: PageSession,
    url: FormUrl = "",
    description: FormText = "",
    events: FormEvents = [],  # noqa: B006
    enabled: FormFlag = "",
) -> Response:
    await service.update(
        state.pool,
        state.settings,
        session.account.id,
        webhook_id,
        url=url,
        events=events,
        description=description,
        enabled=bool(enabled),
    )
    return RedirectResponse(f"/webhooks/{webhook_id}", status_code=303)


@router.post("/webhooks/{webhook_id}/secret")
async def rotate_secret(
    webhook_id: Id, request: Request, state: State, templates: Templates, session: PageSession
) -> Response:
    secret = await service.rotate_secret(state.pool, state.settings, session.account.id, webhook_id)
    return await _page(request, state, templates, session, webhook_id, secret=secret)


@router.post("/webhooks/{webhook_id}/test")
async def send_test(webhook_id: Id, state: State, session: PageSession) -> Response:
    await service.send_test(state.pool, state.queue, session.account.id, webhook_id)
    return RedirectResponse(f"/webhooks/{webhook_id}?tested=1#log", status_code=303)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/resend")
async def resend(webhook_id: Id, delivery_id: Id, state: State, session: PageSession) -> Response:
    made = await service.resend(
        state.pool, state.queue, session.account.id, webhook_id, delivery_id
    )
    return RedirectResponse(f"/webhooks/{webhook_id}?resent={made.id}#log", status_code=303)


@router.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(webhook_id: Id, state: State, session: PageSession) -> Response:
    await service.delete(state.pool, session.account.id, webhook_id)
    return RedirectResponse("/webhooks", status_code=303)
