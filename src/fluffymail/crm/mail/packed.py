"""A prepared message with its COPY rows already encoded, where it was parsed (issue 21).

The store streams messages and participants with binary COPY; encoding each value there
(psycopg's dumpers, a JSON dump of the extra headers, the arrays) was a third of the
syncing worker's own CPU, on the leg that waits for PostgreSQL. The parser process now
encodes them once (`pack_all`), and a packed message crosses back to the worker as a few
strings and two byte strings instead of a 22-field row and a tuple per participant. The
store only adds what it knows (ids, thread, problems, date) in front of the bytes. The
bytes are exactly what `copy.write_row` made of the same values: the stored rows are
unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from psycopg._copy_base import format_row_binary  # what `Copy.write_row` runs
from psycopg.adapt import Transformer

from fluffymail.crm.mail.prepare import (
    MESSAGE_FIELDS,
    PARTICIPANT_FIELDS,
    PreparedMessage,
    prepare_all,
)

__all__ = [
    "MESSAGE_TAIL_FIELDS",
    "Encoder",
    "PackedMessage",
    "pack",
    "pack_all",
    "without_future_date",
]

# The message columns the parser encodes: every prepared column but the date, which the
# store may still clear (`without_future_date`); they follow the store's own columns.
MESSAGE_TAIL_FIELDS = tuple((name, kind) for name, kind in MESSAGE_FIELDS if name != "date")
_TAIL = tuple(i for i, (name, _) in enumerate(MESSAGE_FIELDS) if name != "date")


class PackedMessage(NamedTuple):
    """What the store needs of one prepared message, its COPY fields encoded.

    Attributes:
        folder, source_id, thread_keys, problems: as in `PreparedMessage`.
        dedup_key, subject, date: the values the store reads (thread plan, duplicates).
        fields: the binary COPY fields of `MESSAGE_TAIL_FIELDS`, each length-prefixed.
        participants: per participant, its binary COPY fields (`PARTICIPANT_FIELDS`).
    """

    folder: str
    source_id: str
    thread_keys: tuple[str, ...]
    problems: tuple[str, ...]
    dedup_key: str
    subject: str
    date: datetime | None
    fields: bytes
    participants: tuple[bytes, ...]


class Encoder:
    """Binary COPY fields of values of fixed types (psycopg's own dumpers, no connection):
    each length-prefixed, without the row's field count."""

    def __init__(self, fields: Sequence[tuple[str, str]]) -> None:
        types = psycopg.adapters.types
        self._transformer = Transformer()
        oids = [types.get_oid(kind) for _, kind in fields]
        self._transformer.set_dumper_types(oids, psycopg.pq.Format.BINARY)

    def encode(self, values: Sequence[Any]) -> bytes:
        out = bytearray()
        format_row_binary(values, self._transformer, out)  # psycopg's COPY row, in C
        return bytes(out[2:])  # without the field count: the store puts its fields first


_MESSAGE = Encoder(MESSAGE_TAIL_FIELDS)
_PARTICIPANT = Encoder(PARTICIPANT_FIELDS)


def pack(message: PreparedMessage) -> PackedMessage:
    """`message` with its rows encoded for the store's COPY."""
    row = message.row
    return PackedMessage(  # positional: this runs once per message
        message.folder, message.source_id, message.thread_keys, message.problems,
        message.dedup_key, message.subject, message.date,
        _MESSAGE.encode([row[i] for i in _TAIL]),
        tuple(_PARTICIPANT.encode(p) for p in message.participants),
    )  # fmt: skip


def pack_all(mails: Sequence[tuple[str, str, bytes, str | None]]) -> list[PackedMessage]:
    """`prepare_all`, packed: what a sync's parser process sends back to the store."""
    return [pack(message) for message in prepare_all(mails)]


def without_future_date(message: PackedMessage, horizon: datetime) -> PackedMessage:
    """`message` unchanged, or, when its Date is past `horizon` (a wrong clock or a typo: an
    archive's mail dated 2044), undated with the claimed date kept as a problem, so it never
    counts as the latest activity of a contact, thread or company."""
    date = message.date
    if date is None or date <= horizon:
        return message
    problem = f"date-in-future:{date.isoformat()}"
    return message._replace(date=None, problems=(*message.problems, problem))
