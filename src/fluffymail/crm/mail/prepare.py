"""What one parsed message becomes in the store: plain rows, computed before any database work.

`prepare` is pure and its result is a tuple of primitives, so it runs where the message was
parsed (the import's parser process) and crosses the process boundary cheaply; the store
then only adds ids and streams the rows with COPY.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from fluffymail.crm.mail.models import IncomingMessage, dedup_key
from fluffymail.crm.messages.models import ParsedMessage
from fluffymail.crm.messages.parse import parse_message
from fluffymail.crm.messages.threading import thread_keys

__all__ = [
    "MESSAGE_COLUMNS",
    "MESSAGE_FIELDS",
    "PARTICIPANT_FIELDS",
    "PreparedMessage",
    "clean",
    "prepare",
    "prepare_all",
    "without_future_date",
]

# `PreparedMessage.row`: (column, COPY type) in order; the store adds id, user_id, thread_id,
# problems and created_on.
MESSAGE_FIELDS = (
    ("dedup_key", "text"),
    ("message_id", "text"),
    ("from_address", "text"),
    ("from_name", "text"),
    ("date", "timestamptz"),
    ("subject", "text"),
    ("snippet", "text"),
    ("body_text", "text"),
    ("content_type", "text"),
    ("list_id", "text"),
    ("list_unsubscribe", "text"),
    ("precedence", "text"),
    ("auto_submitted", "text"),
    ("return_path", "text"),
    ("in_reply_to", "text"),
    ("references", "text[]"),
    ("extra_headers", "jsonb"),
    ("size", "int4"),
    ("has_calendar", "bool"),
    ("is_delivery_report", "bool"),
    ("recipients", "text"),
    ("has_attachment", "bool"),
)
RECIPIENTS_CHARS = 1000  # a mass mailing's thousand recipients are not worth indexing
MESSAGE_COLUMNS = tuple(name for name, _ in MESSAGE_FIELDS)
_KEY, _DATE, _SUBJECT = (MESSAGE_COLUMNS.index(c) for c in ("dedup_key", "date", "subject"))
# Each participant row, after the message id the store puts first: (column, COPY type).
PARTICIPANT_FIELDS = (
    ("role", "text"),
    ("position", "int4"),
    ("address", "text"),
    ("display_name", "text"),
    ("valid", "bool"),
)

_EXTRA = ("x_from", "x_to", "x_cc", "x_bcc", "x_gm_thrid", "bulk_signal")

Participant = tuple[str, int, str, str, bool]


class PreparedMessage(NamedTuple):
    """One message ready to store (a NamedTuple: it pickles as a plain tuple).

    Attributes:
        folder, source_id: where it was found (see `IncomingMessage`).
        thread_keys: its thread keys, the primary one first.
        problems: parse problems, cleaned (a duplicate's may be merged in: kept out of `row`).
        row: the `crm.messages` values in `MESSAGE_COLUMNS` order.
        participants: (role, position, address, display name, valid) per address.
    """

    folder: str
    source_id: str
    thread_keys: tuple[str, ...]
    problems: tuple[str, ...]
    row: tuple[Any, ...]
    participants: tuple[Participant, ...]

    @property
    def dedup_key(self) -> str:
        """Its per-user identity."""
        return self.row[_KEY]

    @property
    def subject(self) -> str:
        """The cleaned subject (a new thread takes its first message's)."""
        return self.row[_SUBJECT]

    @property
    def date(self) -> datetime | None:
        return self.row[_DATE]


def prepare(message: IncomingMessage) -> PreparedMessage:
    """The rows `message` becomes; every string is safe for PostgreSQL text (see `clean`)."""
    return _prepare(message.folder, message.source_id, message.parsed, message.provider_thread_id)


def _prepare(
    folder: str, source_id: str, p: ParsedMessage, thread_id: str | None
) -> PreparedMessage:
    row, texts = _row(p, dedup_key(p))
    keys = thread_keys(p, provider_thread_id=thread_id)
    participants = _participants(p)
    texts += keys
    texts += p.problems
    texts += [person[2] for person in participants]  # addresses
    texts += [person[3] for person in participants]  # display names
    texts.append(source_id)
    if not _all_clean(texts):  # one check for all of them: nearly every message is clean
        return _cleaned(folder, source_id, keys, p.problems, row, participants)
    return PreparedMessage(folder, source_id, keys, p.problems, row, participants)


def _cleaned(
    folder: str,
    source_id: str,
    keys: tuple[str, ...],
    problems: tuple[str, ...],
    row: tuple[Any, ...],
    participants: tuple[Participant, ...],
) -> PreparedMessage:
    """`prepare`'s result with `clean` applied to every string."""
    return PreparedMessage(
        folder,
        clean(source_id),
        tuple(clean(k) for k in keys),
        tuple(clean(x) for x in problems),
        tuple(_clean_value(v) for v in row),
        tuple(
            (role, pos, clean(email), clean(name), valid)
            for role, pos, email, name, valid in participants
        ),
    )


def without_future_date(message: PreparedMessage, horizon: datetime) -> PreparedMessage:
    """`message` unchanged, or, when its Date is past `horizon` (a wrong clock or a typo: an
    archive's mail dated 2044), undated with the claimed date kept as a problem, so it never
    counts as the latest activity of a contact, thread or company."""
    date = message.row[_DATE]
    if date is None or date <= horizon:
        return message
    row = (*message.row[:_DATE], None, *message.row[_DATE + 1 :])
    problem = f"date-in-future:{date.isoformat()}"
    return message._replace(row=row, problems=(*message.problems, problem))


def prepare_all(mails: Sequence[tuple[str, str, bytes, str | None]]) -> list[PreparedMessage]:
    """Parse each (folder, source id, raw, provider thread id) and prepare its rows.

    A module-level function of plain tuples, so a process pool runs it and its results
    cross back as tuples (cheap to pickle); `prepare` without an IncomingMessage each."""
    return [
        _prepare(folder, source_id, parse_message(raw), thread_id)
        for folder, source_id, raw, thread_id in mails
    ]


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


def _all_clean(texts: list[str]) -> bool:
    """True when every text is plain ASCII without NUL (one check instead of one per text)."""
    joined = "".join(texts)
    return joined.isascii() and "\x00" not in joined


def _row(p: ParsedMessage, key: str) -> tuple[tuple[Any, ...], list[str]]:
    """The message's row, and every string in it (for `_all_clean`)."""
    sender = p.from_
    extra = {name: v for name in _EXTRA if (v := getattr(p, name))}
    if p.sender is not None:
        extra["sender"] = p.sender.email
    if p.groups:  # RFC 5322 group names (their members are participants too)
        extra["address_groups"] = [
            {"header": g.header, "name": g.name, "members": list(g.members)} for g in p.groups
        ]
    row = (
        key,
        p.message_id or None,
        sender.email if sender else None,
        sender.name if sender else None,
        p.date,
        p.subject,
        p.snippet,
        p.body_text,
        p.content_type or None,
        p.list_id or None,
        p.list_unsubscribe or None,
        p.precedence or None,
        p.auto_submitted or None,
        p.return_path or None,
        p.in_reply_to or None,
        list(p.references),
        extra or None,
        p.size,
        p.has_calendar,
        p.is_delivery_report,
        _recipients(p),
        p.has_attachment,
    )
    texts = [v for v in row if type(v) is str]
    texts += p.references
    texts += [v for v in extra.values() if type(v) is str]
    for group in p.groups:  # the strings of `extra["address_groups"]`
        texts += (group.header, group.name, *group.members)
    return row, texts


def _recipients(p: ParsedMessage) -> str:
    """To, Cc and Bcc names and addresses as one line (what the search vector reads; 0025)."""
    line = " ".join(
        [f"{a.name} {a.email}" if a.name else a.email for a in (*p.to, *p.cc, *p.bcc) if a.email]
    )
    return line[:RECIPIENTS_CHARS]


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_value(v) for k, v in value.items()}
    return value


def _participants(parsed: ParsedMessage) -> tuple[Participant, ...]:
    roles = (
        ("from", (parsed.from_,) if parsed.from_ else ()),
        ("sender", (parsed.sender,) if parsed.sender else ()),
        ("to", parsed.to),
        ("cc", parsed.cc),
        ("bcc", parsed.bcc),
        ("reply_to", parsed.reply_to),
    )
    rows = [
        (role, position, address.email, address.name, address.valid)
        for role, addresses in roles
        for position, address in enumerate(addresses)
        if address.email
    ]
    return tuple(rows)
