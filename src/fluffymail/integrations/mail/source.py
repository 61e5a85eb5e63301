"""The port every remote mail source (IMAP, Gmail API) implements: pages of raw mail plus a cursor.

Sources are pure adapters: no database access, no parsing. Imports only the leaves and crm models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from fluffymail.crm.messages.models import RawMail
from fluffymail.errors import FluffyMailError

__all__ = [
    "AuthError",
    "Cursor",
    "MailSource",
    "SourceError",
    "SourceMail",
    "SourcePage",
    "TransientSourceError",
]

Cursor = dict[str, Any]
"""JSON-serialisable sync position; opaque to callers, persisted as it is."""


class SourceError(FluffyMailError):
    """The mail source failed."""


class AuthError(SourceError):
    """The mail source refused our credentials; the user must reconnect (needs_reauth).

    Permanent: retrying with the same credentials cannot succeed. `reason` is a short,
    credential-free explanation fit for the connection's status line.
    """

    def __init__(self, message: str | None = None, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or str(self)


class TransientSourceError(SourceError):
    """The mail source is unreachable or throttling us; retry later.

    `retry_after` is the server's hint in seconds, when it gave one.
    """

    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceMail:
    """One undecoded message with the provider's ids for it.

    `source_id` is unique within the connection: IMAP "<uidvalidity>:<uid>", Gmail the
    message id. `thread_id` is Gmail's threadId / X-GM-THRID when the provider has one.
    """

    folder: str
    source_id: str
    raw: bytes
    uid: int | None = None
    gmail_id: str | None = None
    thread_id: str | None = None
    labels: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    internal_date: datetime | None = None

    def to_raw_mail(self) -> RawMail:
        """The `RawMail` the parser takes."""
        return RawMail(folder=self.folder, source_id=self.source_id, raw=self.raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcePage:
    """A batch of mail to store, and the cursor to persist in the same transaction.

    Attributes:
        folder: the folder (IMAP) or "all" (Gmail) the page belongs to.
        mails: the messages, oldest UID first (IMAP) or newest first (Gmail full sync).
        cursor: the whole connection cursor, valid once this page is stored.
        resync: the folder's ids were invalidated (UIDVALIDITY change, Gmail history too
            old); forget the provider ids stored for it before storing this page. The
            storage layer dedups by Message-ID / Gmail id, so nothing is duplicated.
        deleted_ids: `source_id`s the provider reports as deleted.
        present_ids: when not None, every `source_id` still in `folder` on the server;
            anything stored for the folder and absent here was expunged.
        remaining: the source's estimate of messages still to come, when known.
    """

    folder: str
    mails: tuple[SourceMail, ...]
    cursor: Cursor
    resync: bool = False
    deleted_ids: tuple[str, ...] = ()
    present_ids: frozenset[str] | None = None
    remaining: int | None = None


class MailSource(Protocol):
    """A remote mailbox read page by page from a persisted cursor."""

    def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        """Yield pages from `cursor` (None: from scratch) until the source is caught up.

        Raises:
            AuthError: the credentials were refused (permanent).
            TransientSourceError: network trouble, 5xx or throttling (retry later).
        """
        ...
