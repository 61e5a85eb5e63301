"""Webhook records: a subscription, a delivery with its attempts, and what a delivery sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

EVENT_KINDS = (
    "contact.created",
    "contact.updated",
    "relationship.changed",
    "followup.due",
    "followups.due",
    "sync.failed",
)
"""The events a webhook may subscribe to (`followups.due` is the optional daily digest)."""


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A subscription of a workspace: where to POST which events (its secret is kept apart)."""

    id: int
    workspace_id: int
    url: str
    description: str
    events: tuple[str, ...]
    enabled: bool
    created_on: datetime
    changed_on: datetime
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    url_redacted: bool = False  # `url` cut to its scheme and host (as a member sees it)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Webhook:
        return cls(**{**row, "events": tuple(row["events"])})


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    attempt: int
    attempted_on: datetime
    status: int | None
    duration_ms: int
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One event sent (or being sent) to one webhook; `attempts` only when asked for."""

    id: int
    webhook_id: int
    event_id: int
    event_kind: str
    subject: str
    state: DeliveryState
    attempts: int
    last_status: int | None
    last_error: str | None
    resend_of: int | None
    created_on: datetime
    finished_on: datetime | None
    log: tuple[Attempt, ...] = ()

    @classmethod
    def from_row(cls, row: dict[str, Any], log: tuple[Attempt, ...] = ()) -> Delivery:
        return cls(**{**row, "state": DeliveryState(row["state"]), "log": log})


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """What a delivery job needs: the target, its encrypted secret and the event to send."""

    delivery_id: int
    webhook_id: int
    subject: str
    state: DeliveryState
    url: str
    enabled: bool
    secret: bytes
    event_id: int
    kind: str
    payload: dict[str, Any]
    event_on: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Outgoing:
        return cls(**{**row, "state": DeliveryState(row["state"]), "secret": bytes(row["secret"])})

    @property
    def message_id(self) -> str:
        """The Standard Webhooks `webhook-id`: one per event, the same on every retry and
        resend, so a receiver can drop duplicates."""
        return f"msg_{self.event_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dispatched:
    """A delivery just made from a pending event."""

    delivery_id: int
    webhook_id: int
    subject: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """One attempt's outcome: an HTTP status (2xx is delivered) or an error before one."""

    status: int | None
    duration_ms: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300
