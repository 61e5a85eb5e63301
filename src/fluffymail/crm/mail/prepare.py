"""What one parsed message becomes in the store: plain rows, computed before any database work.

`prepare` is pure and its result is a tuple of primitives, so it runs where the message was
parsed (the import's parser process) and crosses the process boundary cheaply; the store
then only adds ids and streams the rows with COPY.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from fluffymail.crm.mail.models import IncomingMessage
from fluffymail.crm.messages.models import Address, ParsedMessage
from fluffymail.crm.messages.threading import thread_aliases, thread_key

__all__ = ["MESSAGE_COLUMNS", "PARTICIPANT_COLUMNS", "PreparedMessage", "clean", "prepare"]

# `PreparedMessage.row`, in this order; the store adds id, user_id, thread_id, problems, created_on.
MESSAGE_COLUMNS = (
    "dedup_key",
    "message_id",
    "from_address",
    "from_name",
    "date",
    "subject",
    "snippet",
    "body_text",
    "content_type",
    "list_id",
    "list_unsubscribe",
    "precedence",
    "auto_submitted",
    "return_path",
    "in_reply_to",
    "references",
    "extra_headers",
    "size",
    "has_calendar",
    "is_delivery_report",
)
MESSAGE_TYPES = (
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text[]",
    "jsonb",
    "int4",
    "bool",
    "bool",
)
# Each participant row, after the message id the store puts first.
PARTICIPANT_COLUMNS = ("role", "position", "address", "display_name", "valid")

_ROLES = ("to", "cc", "bcc", "reply_to")
_EXTRA = ("x_from", "x_to", "x_cc", "x_bcc", "x_gm_thrid")

Participant = tuple[str, int, str, str, bool]


class PreparedMessage(NamedTuple):
    """One message ready to store (a NamedTuple: it pickles as a plain tuple).

    Attributes:
        folder, source_id: where it was found (see `IncomingMessage`).
        dedup_key: its per-user identity.
        thread_keys: its thread keys, the primary one first.
        subject: the cleaned subject (a new thread takes its first message's).
        problems: parse problems, cleaned.
        row: the `crm.messages` values in `MESSAGE_COLUMNS` order.
        participants: (role, position, address, display name, valid) per address.
    """

    folder: str
    source_id: str
    dedup_key: str
    thread_keys: tuple[str, ...]
    subject: str
    date: datetime | None
    problems: tuple[str, ...]
    row: tuple[Any, ...]
    participants: tuple[Participant, ...]


def prepare(message: IncomingMessage) -> PreparedMessage:
    """The rows `message` becomes; every string is safe for PostgreSQL text (see `clean`)."""
    p = message.parsed
    key = message.dedup_key
    subject = clean(p.subject)
    return PreparedMessage(
        folder=message.folder,
        source_id=clean(message.source_id),
        dedup_key=key,
        thread_keys=_thread_keys(message),
        subject=subject,
        date=p.date,
        problems=tuple(clean(x) for x in p.problems),
        row=_row(p, key, subject),
        participants=_participants(p),
    )


def clean(text: str) -> str:
    """`text` without NUL (PostgreSQL text cannot hold it) and with lone surrogates (from
    undecodable header bytes) replaced by "?", so it always encodes to UTF-8."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _opt(text: str | None) -> str | None:
    return clean(text) if text else None


def _thread_keys(message: IncomingMessage) -> tuple[str, ...]:
    primary = thread_key(message.parsed, provider_thread_id=message.provider_thread_id)
    return tuple(clean(k) for k in dict.fromkeys((primary, *thread_aliases(message.parsed))))


def _row(p: ParsedMessage, key: str, subject: str) -> tuple[Any, ...]:
    sender = p.from_
    extra = {name: clean(v) for name in _EXTRA if (v := getattr(p, name))}
    if p.sender is not None:
        extra["sender"] = clean(p.sender.email)
    return (
        key,
        _opt(p.message_id),
        clean(sender.email) if sender else None,
        clean(sender.name) if sender else None,
        p.date,
        subject,
        clean(p.snippet),
        clean(p.body_text),
        _opt(p.content_type),
        _opt(p.list_id),
        _opt(p.list_unsubscribe),
        _opt(p.precedence),
        _opt(p.auto_submitted),
        _opt(p.return_path),
        _opt(p.in_reply_to),
        [clean(r) for r in p.references],
        extra or None,
        p.size,
        p.has_calendar,
        p.is_delivery_report,
    )


def _participants(parsed: ParsedMessage) -> tuple[Participant, ...]:
    groups: list[tuple[str, tuple[Address, ...]]] = [
        ("from", (parsed.from_,) if parsed.from_ else ()),
        ("sender", (parsed.sender,) if parsed.sender else ()),
        *((role, getattr(parsed, role)) for role in _ROLES),
    ]
    return tuple(
        (role, position, clean(address.email), clean(address.name), address.valid)
        for role, addresses in groups
        for position, address in enumerate(addresses)
        if address.email
    )
