"""The JSON models of webhooks, their deliveries and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fluffymail.integrations.webhook_http import URL_MAX
from fluffymail.web.services.webhooks import DESCRIPTION_MAX

EventKind = Literal[
    "contact.created",
    "contact.updated",
    "relationship.changed",
    "followup.due",
    "followups.due",
    "sync.failed",
]
URL_HELP = (
    "Where to POST the events: http(s) on port 80 or 443, at a public address (an "
    "administrator allows private ones and other ports with FLUFFYMAIL_OUTBOUND_ALLOW and "
    "FLUFFYMAIL_OUTBOUND_PORTS)"
)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=URL_MAX, description=URL_HELP)
    events: list[EventKind] = Field(min_length=1, max_length=12, description="What to send")
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    enabled: bool = True


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=URL_MAX, description=URL_HELP)
    events: list[EventKind] | None = Field(default=None, min_length=1, max_length=12)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    enabled: bool | None = None


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    created_on: datetime
    changed_on: datetime
    delivered: int = Field(description="Deliveries the receiver took (2xx)")
    failed: int = Field(description="Deliveries given up after every retry")
    pending: int = Field(description="Deliveries being sent or waiting for a retry")
    url_redacted: bool = Field(
        default=False,
        description="True for a member: `url` is only its scheme and host (the path and query "
        "often hold the receiver's token; owners see the whole URL)",
    )


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`), shown this once: keep it to verify "
        "the `webhook-signature` header (Standard Webhooks)"
    )


class SecretOut(BaseModel):
    secret: str = Field(description="The new signing secret, shown this once")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    attempted_on: datetime
    status: int | None = Field(description="The receiver's HTTP status; null if none came")
    duration_ms: int
    error: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: int
    event_id: int = Field(description="The event (the `webhook-id` header is `msg_<event_id>`)")
    event_kind: str
    subject: str = Field(description="What it is about: deliveries per subject keep their order")
    state: str = Field(description="pending, delivered or failed (every retry spent)")
    attempts: int
    last_status: int | None
    last_error: str | None
    resend_of: int | None = Field(description="The delivery this one sends again")
    created_on: datetime
    finished_on: datetime | None
    log: list[AttemptOut] = Field(description="Each attempt: status code, duration, error")


class DeliveriesOut(BaseModel):
    items: list[DeliveryOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end"
    )
