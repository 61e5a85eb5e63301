"""Mail records as the CRM stores them: users, connections, incoming messages, stored pages.

Pure data (imports only the stdlib and `crm.messages`). Sources of mail plug in through the
port in `fluffymail.integrations.mail.source` (see "Sources" below); this module never
imports them.

Sources: every connection kind (mbox, maildir, imap, gmail) is read by an adapter that
implements `integrations.mail.source.MailSource`::

    class MailSource(Protocol):
        def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]: ...

Each `SourcePage` holds one folder's undecoded mail (`SourceMail`: folder, source_id, raw,
thread_id) and the *whole* connection cursor valid once the page is stored. The
`sync-emails` job parses the mail, stores it with `repo.store_messages`, saves the cursor
with `repo.save_cursor` and enqueues follow-up jobs, all in one transaction. A cursor shaped
`{"folders": {name: folder_cursor, ...}, ...}` is stored one row per folder in
`crm.sync_cursors` (`crm.mail.cursors`), and only the rows a page moved are written. Adapters raise `AuthError` (permanent: status `needs_reauth`) or
`TransientSourceError` (retried with backoff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from fluffymail.crm.messages.models import ParsedMessage
from fluffymail.errors import FluffyMailError

__all__ = [
    "Connection",
    "ConnectionKind",
    "IncomingMessage",
    "MailError",
    "StoredPage",
    "SyncStatus",
    "User",
    "dedup_key",
]


class MailError(FluffyMailError):
    """Mail ingestion failed."""


class ConnectionKind(StrEnum):
    GMAIL = "gmail"
    IMAP = "imap"
    MBOX = "mbox"
    MAILDIR = "maildir"

    @property
    def is_file(self) -> bool:
        return self in (ConnectionKind.MBOX, ConnectionKind.MAILDIR)


class SyncStatus(StrEnum):
    OK = "ok"
    SYNCING = "syncing"
    FAILED = "failed"
    NEEDS_REAUTH = "needs_reauth"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    email: str
    name: str
    created_on: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(id=row["id"], email=row["email"], name=row["name"], created_on=row["created_on"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """A mail account or file source of one user, with its sync state (no credentials)."""

    id: int
    user_id: int
    kind: ConnectionKind
    source: str
    display_name: str
    status: SyncStatus
    last_error: str | None = None
    last_error_on: datetime | None = None
    last_synced_on: datetime | None = None
    seen_count: int = 0
    stored_count: int = 0
    remaining_estimate: int | None = None
    cursor: dict[str, Any] | None = None
    paused_on: datetime | None = None
    deleting_on: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Connection:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            kind=ConnectionKind(row["kind"]),
            source=row["source"],
            display_name=row["display_name"],
            status=SyncStatus(row["status"]),
            last_error=row["last_error"],
            last_error_on=row["last_error_on"],
            last_synced_on=row["last_synced_on"],
            seen_count=row["seen_count"],
            stored_count=row["stored_count"],
            remaining_estimate=row["remaining_estimate"],
            cursor=row.get("cursor"),
            paused_on=row.get("paused_on"),
            deleting_on=row.get("deleting_on"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingMessage:
    """One parsed message and where it was found, ready to store.

    `source_id` identifies it within `folder` (mbox "<file>:<offset>", Maildir unique name,
    IMAP "<uidvalidity>:<uid>", Gmail id); `provider_thread_id` is Gmail's threadId.
    """

    folder: str
    source_id: str
    parsed: ParsedMessage
    provider_thread_id: str | None = None

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.parsed)


def dedup_key(parsed: ParsedMessage) -> str:
    """The per-user identity of a message: "fp:" + its content fingerprint.

    Content (From, Date, Subject, first 4 KB of body), not Message-ID: Enron's Message-IDs
    are synthetic per folder copy, and the same bytes fetched over IMAP, the Gmail API or
    from an export give the same fingerprint. See README.md in this package.
    """
    return f"fp:{parsed.fingerprint}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPage:
    """What `repo.store_messages` did with a batch.

    Attributes:
        seen: messages in the batch.
        new_message_ids: ids of messages stored for the first time (in batch order).
        duplicates: messages that were already stored (in this batch or before).
        threads_touched: threads that gained messages.
        unlinked: stored messages left in no folder because their provider id now names
            another message (the sync deletes them unless found again).
    """

    seen: int
    new_message_ids: tuple[int, ...]
    duplicates: int
    threads_touched: int = 0
    unlinked: tuple[int, ...] = ()
