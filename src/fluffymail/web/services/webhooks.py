"""Webhooks as the web app manages them: a workspace's subscriptions (the secret shown once,
at creation and on rotation), their delivery log, "Resend" and "Send test event". A target URL
is checked like any outbound connection before it is saved, and again at each delivery.

Every query carries the caller's workspace: another workspace's webhook or delivery looks
exactly like a missing one. Teammates all see the webhooks and their logs (a member each URL's
scheme and host only: the rest often holds the receiver's token); only the workspace's owners
add, change, rotate or delete one (they send its data elsewhere).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.crm.team.models import Workspace
from fluffymail.crm.webhooks import repo as webhooks_repo
from fluffymail.crm.webhooks import signing
from fluffymail.crm.webhooks.models import EVENT_KINDS, Delivery, Dispatched, Webhook
from fluffymail.errors import FluffyMailError
from fluffymail.integrations import net, webhook_http
from fluffymail.jobs import deliver_webhook, webhook_dead_letter
from fluffymail.queue import JobQueue
from fluffymail.web.services import activity
from fluffymail.web.services import team as team_service
from fluffymail.web.services.messages import Conn

DESCRIPTION_MAX = 200
LOG_LIMIT = 50
WEBHOOKS_MAX = 20  # per workspace


class WebhookNotFound(FluffyMailError):
    """No such webhook."""


class DeliveryNotFound(FluffyMailError):
    """No such delivery."""


class WebhookRefused(FluffyMailError):
    """The webhook cannot be saved that way."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    """A new webhook and its signing secret (shown this once)."""

    webhook: Webhook
    secret: str


def check_events(events: Sequence[str]) -> list[str]:
    """The events in their canonical order; refused when empty or unknown."""
    unknown = sorted(set(events) - set(EVENT_KINDS))
    if unknown:
        raise WebhookRefused(
            f"unknown event {unknown[0]!r}; the events are {', '.join(EVENT_KINDS)}"
        )
    if not events:
        raise WebhookRefused("pick at least one event")
    return [kind for kind in EVENT_KINDS if kind in set(events)]


async def check_url(settings: Settings, url: str) -> str:
    """The URL, trimmed, if it may be called: http(s), a public address (or one an
    administrator allows with FLUFFYMAIL_OUTBOUND_ALLOW) on an allowed port."""
    url = _utf8(url.strip(), "the URL")
    try:
        await webhook_http.check(url, webhook_http.policy(settings))
    except net.OutboundError as exc:
        raise WebhookRefused(exc.reason) from exc
    return url


def _utf8(text: str, what: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate from a JSON escape
        raise WebhookRefused(f"{what} holds characters that are not text") from exc
    return text


def _description(text: str) -> str:
    text = " ".join(_utf8(text, "the description").split())
    if len(text) > DESCRIPTION_MAX:
        raise WebhookRefused(f"a description can be at most {DESCRIPTION_MAX} characters")
    return text


async def ensure_queues(queue: JobQueue) -> None:
    """Create the delivery queues with their jobs' options when no worker has yet."""
    known = await queue.get_queues()
    for module in (webhook_dead_letter, deliver_webhook):  # the dead letter first
        if module.QUEUE not in known:
            await queue.create_queue(module.QUEUE, **module.QUEUE_OPTIONS)


async def _workspace(conn: Conn, user_id: int) -> int:
    return await activity.workspace_of(conn, user_id)


async def _owned(conn: Conn, user_id: int, action: str) -> int:
    """The caller's workspace, if they own it (`TeamForbidden` for a member)."""
    return (await team_service.require_owner(conn, user_id, action)).id


def _as_seen_by(workspace: Workspace, webhook: Webhook) -> Webhook:
    """An owner sees the whole URL; a member only where it goes (scheme and host), since its
    path or query often holds the receiver's token and members cannot manage webhooks."""
    if workspace.role == "owner":
        return webhook
    return dataclasses.replace(webhook, url=webhook_http.origin(webhook.url), url_redacted=True)


async def list_webhooks(pool: AsyncConnectionPool, user_id: int) -> list[Webhook]:
    """The workspace's webhooks, as the caller may see them."""
    async with pool.connection() as conn:
        workspace = await team_service.current(conn, user_id)
        found = await webhooks_repo.list_webhooks(conn, workspace.id)
    return [_as_seen_by(workspace, w) for w in found]


async def get(pool: AsyncConnectionPool, user_id: int, webhook_id: int) -> Webhook:
    """One of the workspace's webhooks, as the caller may see it."""
    async with pool.connection() as conn:
        workspace = await team_service.current(conn, user_id)
        found = await webhooks_repo.list_webhooks(conn, workspace.id, webhook_id)
    if not found:
        raise WebhookNotFound(f"no webhook {webhook_id}")
    return _as_seen_by(workspace, found[0])


async def _get(conn: Conn, user_id: int, webhook_id: int) -> Webhook:
    found = await webhooks_repo.list_webhooks(conn, await _workspace(conn, user_id), webhook_id)
    if not found:
        raise WebhookNotFound(f"no webhook {webhook_id}")
    return found[0]


async def create(
    pool: AsyncConnectionPool,
    settings: Settings,
    user_id: int,
    *,
    url: str,
    events: Sequence[str],
    description: str = "",
    enabled: bool = True,
) -> Created:
    """Subscribe the caller's workspace; the answer holds the secret, never shown again."""
    kinds = check_events(events)
    text = _description(description)
    url = await check_url(settings, url)
    secret = signing.new_secret()
    box = secrets.open_box(settings)
    async with pool.connection() as conn, conn.transaction():
        workspace_id = await _owned(conn, user_id, "add a webhook")
        if len(await webhooks_repo.list_webhooks(conn, workspace_id)) >= WEBHOOKS_MAX:
            raise WebhookRefused(f"a workspace can have at most {WEBHOOKS_MAX} webhooks")
        made = await webhooks_repo.insert_webhook(
            conn,
            workspace_id=workspace_id,
            user_id=user_id,
            url=url,
            description=text,
            events=kinds,
            secret=box.encrypt(secret.encode("ascii")),
            enabled=enabled,
        )
    return Created(webhook=made, secret=secret)


async def update(
    pool: AsyncConnectionPool,
    settings: Settings,
    user_id: int,
    webhook_id: int,
    *,
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Webhook:
    """Change what is given (a URL is checked again); 404 when not the workspace's."""
    async with pool.connection() as conn:
        await _get(conn, user_id, webhook_id)  # 404 before any 403 or 400
        await _owned(conn, user_id, "change a webhook")
    kinds = check_events(events) if events is not None else None
    text = _description(description) if description is not None else None
    checked = await check_url(settings, url) if url is not None else None
    async with pool.connection() as conn, conn.transaction():
        workspace_id = await _workspace(conn, user_id)
        changed = await webhooks_repo.update_webhook(
            conn,
            workspace_id,
            webhook_id,
            url=checked,
            description=text,
            events=kinds,
            enabled=enabled,
        )
        if not changed:
            raise WebhookNotFound(f"no webhook {webhook_id}")
        return await _get(conn, user_id, webhook_id)


async def rotate_secret(
    pool: AsyncConnectionPool, settings: Settings, user_id: int, webhook_id: int
) -> str:
    """A new signing secret, in use from the next attempt on; shown this once."""
    secret = signing.new_secret()
    sealed = secrets.open_box(settings).encrypt(secret.encode("ascii"))
    async with pool.connection() as conn, conn.transaction():
        await _get(conn, user_id, webhook_id)
        workspace_id = await _owned(conn, user_id, "rotate a webhook's secret")
        if not await webhooks_repo.update_webhook(conn, workspace_id, webhook_id, secret=sealed):
            raise WebhookNotFound(f"no webhook {webhook_id}")
    return secret


async def delete(pool: AsyncConnectionPool, user_id: int, webhook_id: int) -> None:
    """Delete the webhook and its log (its queued deliveries find nothing and end)."""
    async with pool.connection() as conn, conn.transaction():
        await _get(conn, user_id, webhook_id)
        workspace_id = await _owned(conn, user_id, "delete a webhook")
        if not await webhooks_repo.delete_webhook(conn, workspace_id, webhook_id):
            raise WebhookNotFound(f"no webhook {webhook_id}")


async def deliveries(
    pool: AsyncConnectionPool,
    user_id: int,
    webhook_id: int,
    *,
    limit: int = LOG_LIMIT,
    before: int | None = None,
    state: str | None = None,
) -> list[Delivery]:
    """The webhook's delivery log, newest first, each with its attempts."""
    async with pool.connection() as conn:
        await _get(conn, user_id, webhook_id)
        return await webhooks_repo.list_deliveries(
            conn, webhook_id, limit=limit, before=before, state=state
        )


async def delivery(
    pool: AsyncConnectionPool, user_id: int, webhook_id: int, delivery_id: int
) -> Delivery:
    async with pool.connection() as conn:
        return await _delivery(conn, user_id, webhook_id, delivery_id)


async def _delivery(conn: Conn, user_id: int, webhook_id: int, delivery_id: int) -> Delivery:
    await _get(conn, user_id, webhook_id)
    found = await webhooks_repo.list_deliveries(conn, webhook_id, delivery_id=delivery_id)
    if not found:
        raise DeliveryNotFound(f"no delivery {delivery_id} of webhook {webhook_id}")
    return found[0]


async def resend(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, webhook_id: int, delivery_id: int
) -> Delivery:
    """Send a delivery's event again, as a new delivery (the log keeps both)."""
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        await _delivery(conn, user_id, webhook_id, delivery_id)
        made = await webhooks_repo.resend(conn, webhook_id, delivery_id)
        assert made is not None  # checked just above, in this transaction
        return await _enqueue(conn, queue, user_id, made)


async def send_test(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, webhook_id: int
) -> Delivery:
    """A `webhook.test` event delivered to this webhook alone."""
    await ensure_queues(queue)
    async with pool.connection() as conn, conn.transaction():
        workspace_id = await _workspace(conn, user_id)
        made = await webhooks_repo.test_event(conn, workspace_id, user_id, webhook_id)
        if made is None:
            raise WebhookNotFound(f"no webhook {webhook_id}")
        return await _enqueue(conn, queue, user_id, made)


async def _enqueue(conn: Conn, queue: JobQueue, user_id: int, made: Dispatched) -> Delivery:
    await deliver_webhook.enqueue(queue, [made], conn=conn)
    return await _delivery(conn, user_id, made.webhook_id, made.delivery_id)
