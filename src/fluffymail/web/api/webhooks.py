"""Webhooks: a workspace's subscriptions (the secret shown once; rotate it), their delivery log
with each attempt's status code, "resend" and a test event. Another workspace's webhook or
delivery answers 404."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Response

from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.api.webhook_schemas import (
    DeliveriesOut,
    DeliveryOut,
    SecretOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import webhooks as service

ERRORS = {401: {"model": ErrorOut}, 400: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
OWNERS = {403: {"model": ErrorOut}}  # owners only: a member is refused with the reason
router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=ERRORS)
WebhookId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
DeliveryId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


@router.get("", response_model=list[WebhookOut], summary="The workspace's webhooks")
async def list_webhooks(state: State, account: CurrentAccount) -> list[WebhookOut]:
    found = await service.list_webhooks(state.pool, account.id)
    return [WebhookOut.model_validate(w) for w in found]


@router.post(
    "",
    response_model=WebhookCreatedOut,
    status_code=201,
    responses=OWNERS,
    summary="Subscribe a URL to events (the answer holds the signing secret, shown once; owners)",
)
async def create(
    body: Annotated[WebhookIn, Body()], state: State, account: CurrentAccount
) -> WebhookCreatedOut:
    made = await service.create(
        state.pool,
        state.settings,
        account.id,
        url=body.url,
        events=body.events,
        description=body.description,
        enabled=body.enabled,
    )
    out = WebhookOut.model_validate(made.webhook).model_dump()
    return WebhookCreatedOut(**out, secret=made.secret)


@router.get("/{webhook_id}", response_model=WebhookOut, responses=NOT_FOUND, summary="One")
async def get_webhook(webhook_id: WebhookId, state: State, account: CurrentAccount) -> WebhookOut:
    return WebhookOut.model_validate(await service.get(state.pool, account.id, webhook_id))


@router.patch(
    "/{webhook_id}",
    response_model=WebhookOut,
    responses={**NOT_FOUND, **OWNERS},
    summary="Change the URL, events, description, or turn it off and on (owners)",
)
async def update(
    webhook_id: WebhookId,
    body: Annotated[WebhookPatch, Body()],
    state: State,
    account: CurrentAccount,
) -> WebhookOut:
    found = await service.update(
        state.pool,
        state.settings,
        account.id,
        webhook_id,
        url=body.url,
        events=body.events,
        description=body.description,
        enabled=body.enabled,
    )
    return WebhookOut.model_validate(found)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses={**NOT_FOUND, **OWNERS},
    summary="Delete it and its log (owners)",
)
async def delete(webhook_id: WebhookId, state: State, account: CurrentAccount) -> Response:
    await service.delete(state.pool, account.id, webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/secret",
    response_model=SecretOut,
    responses={**NOT_FOUND, **OWNERS},
    summary="Rotate the signing secret (the new one is shown once; owners)",
)
async def rotate(webhook_id: WebhookId, state: State, account: CurrentAccount) -> SecretOut:
    secret = await service.rotate_secret(state.pool, state.settings, account.id, webhook_id)
    return SecretOut(secret=secret)


@router.post(
    "/{webhook_id}/test",
    response_model=DeliveryOut,
    status_code=202,
    responses=NOT_FOUND,
    summary="Send a `webhook.test` event to this webhook",
)
async def send_test(webhook_id: WebhookId, state: State, account: CurrentAccount) -> DeliveryOut:
    made = await service.send_test(state.pool, state.queue, account.id, webhook_id)
    return DeliveryOut.model_validate(made)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveriesOut,
    responses=NOT_FOUND,
    summary="The delivery log, newest first, with each attempt",
)
async def deliveries(
    webhook_id: WebhookId,
    state: State,
    account: CurrentAccount,
    limit: Annotated[int, Query(ge=1, le=200)] = service.LOG_LIMIT,
    before: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
) -> DeliveriesOut:
    found = await service.deliveries(
        state.pool, account.id, webhook_id, limit=limit, before=before, state=status
    )
    items = [DeliveryOut.model_validate(d) for d in found]
    return DeliveriesOut(items=items, next_before=found[-1].id if len(found) == limit else None)


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    responses=NOT_FOUND,
    summary="One delivery with its attempts",
)
async def get_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, state: State, account: CurrentAccount
) -> DeliveryOut:
    found = await service.delivery(state.pool, account.id, webhook_id, delivery_id)
    return DeliveryOut.model_validate(found)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/resend",
    response_model=DeliveryOut,
    status_code=202,
    responses=NOT_FOUND,
    summary="Send the delivery's event again (a new delivery in the log)",
)
async def resend(
    webhook_id: WebhookId, delivery_id: DeliveryId, state: State, account: CurrentAccount
) -> DeliveryOut:
    made = await service.resend(state.pool, state.queue, account.id, webhook_id, delivery_id)
    return DeliveryOut.model_validate(made)
