"""The only module that runs `crm/mail/sql/*.sql`: users, connections, cursors and messages.

Every function takes the caller's connection, so a page of mail, its cursor and its follow-up
jobs commit together. A batch is a dozen statements whatever its size: messages and their
participants stream in with binary COPY, the smaller sets travel as one JSON parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.mail import cursors
from fluffymail.crm.mail.models import Connection, ConnectionKind, MailError, StoredPage, User
from fluffymail.crm.mail.prepare import (
    MESSAGE_FIELDS,
    PARTICIPANT_FIELDS,
    PreparedMessage,
    without_future_date,
)
from fluffymail.crm.mail.threads import ThreadPlan, plan_threads
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.mail")
T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]


# -- users and connections ---------------------------------------------------------------


async def get_user(conn: Conn, email: str) -> User | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["get_user_by_email"], {"email": email})).fetchone()
    return User.from_row(row) if row else None


async def user_emails(conn: Conn, limit: int) -> list[str]:
    """The first `limit` users' addresses, in order."""
    rows = await (await conn.execute(SQL["user_emails"], {"limit": limit})).fetchall()
    return [row[0] for row in rows]


async def get_or_create_user(conn: Conn, email: str, name: str = "") -> tuple[User, bool]:
    """The user with this (lower-cased) email, created if missing; True when created."""
    email = email.strip().lower()
    async with conn.cursor(row_factory=dict_row) as cur:
        params = {"email": email, "name": name}
        row = await (await cur.execute(SQL["insert_user"], params)).fetchone()
    if row:
        return User.from_row(row), True
    user = await get_user(conn, email)
    if user is None:  # deleted between the two statements
        return await get_or_create_user(conn, email, name)
    return user, False


async def upsert_connection(
    conn: Conn,
    *,
    user_id: int,
    kind: ConnectionKind,
    source: str,
    display_name: str = "",
    credentials: bytes | None = None,
) -> tuple[Connection, bool]:
    """The connection for (user, kind, source), created if missing; True when created.

    `credentials` must already be encrypted (`crm.secrets`); they are stored, never returned.
    """
    params = {
        "user_id": user_id,
        "kind": str(kind),
        "source": source,
        "display_name": display_name,
        "credentials": credentials,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["upsert_connection"], params)).fetchone()
    assert row is not None
    return await _with_cursor(conn, Connection.from_row(row)), bool(row["created"])


async def file_connections(conn: Conn, user_id: int, kind: ConnectionKind) -> list[Connection]:
    """The user's connections of `kind`, with their cursors, oldest first (not those being
    deleted)."""
    params = {"user_id": user_id, "kind": str(kind)}
    async with conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(SQL["file_connections"], params)).fetchall()
    return [await _with_cursor(conn, Connection.from_row(row)) for row in rows]


async def move_connection(conn: Conn, connection_id: int, source: str) -> Connection | None:
    """The connection, now reading `source`; None when another one of the user reads it."""
    params = {"id": connection_id, "source": source}
    async with conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["move_connection"], params)).fetchone()
    return await _with_cursor(conn, Connection.from_row(row)) if row else None


async def get_connection(conn: Conn, connection_id: int) -> Connection | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(SQL["get_connection"], {"id": connection_id})).fetchone()
    return await _with_cursor(conn, Connection.from_row(row)) if row else None


async def _with_cursor(conn: Conn, connection: Connection) -> Connection:
    """The connection with its cursor put together from its per-folder rows."""
    params = {"user_id": connection.user_id, "id": connection.id}
    rows = await (await conn.execute(SQL["load_cursor"], params)).fetchall()
    return replace(connection, cursor=cursors.join((row[0], row[1]) for row in rows))


async def get_credentials(conn: Conn, connection_id: int) -> bytes | None:
    """The connection's encrypted credentials (decrypt with `crm.secrets`)."""
    row = await (await conn.execute(SQL["get_credentials"], {"id": connection_id})).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


async def set_credentials(
    conn: Conn, connection_id: int, credentials: bytes, *, reauthorized: bool = False
) -> None:
    """Replace the (already encrypted) credentials; `reauthorized` clears `needs_reauth`."""
    params = {"id": connection_id, "credentials": credentials, "reauthorized": reauthorized}
    await conn.execute(SQL["set_credentials"], params)


async def credentials_batch(conn: Conn, *, after: int, limit: int) -> list[tuple[int, bytes]]:
    """Up to `limit` (connection id, encrypted credentials) with ids above `after`, in order."""
    params = {"after": after, "limit": limit}
    rows = await (await conn.execute(SQL["credentials_batch"], params)).fetchall()
    return [(row[0], bytes(row[1])) for row in rows]


async def replace_credentials(
    conn: Conn, replacements: Sequence[tuple[int, bytes, bytes]]
) -> set[int]:
    """Write (id, old, new) credentials where the row still holds `old`; the ids written."""
    params = {
        "ids": [id_ for id_, _, _ in replacements],
        "old": [old for _, old, _ in replacements],
        "new": [new for _, _, new in replacements],
    }
    rows = await (await conn.execute(SQL["replace_credentials"], params)).fetchall()
    return {row[0] for row in rows}


# -- deleting a connection -------------------------------------------------------------------


async def delete_connection_batch(
    conn: Conn, *, connection_id: int, user_id: int, limit: int
) -> tuple[int, int]:
    """Forget up to `limit` of the connection's message locations and delete the messages no
    other connection holds; recount their threads and mark stale the summaries citing them.
    Returns (locations forgotten, messages deleted): 0 forgotten means the connection holds
    no more mail. Call in a transaction."""
    params = {"id": connection_id, "user_id": user_id, "limit": limit}
    row = await (await conn.execute(SQL["delete_connection_batch"], params)).fetchone()
    assert row is not None
    forgotten, deleted, thread_ids, deleted_ids = row
    if thread_ids:
        await conn.execute(SQL["recount_threads"], {"ids": list(thread_ids)})
    await mark_summaries_stale(conn, user_id, deleted_ids)
    return int(forgotten), int(deleted)


async def delete_connection(conn: Conn, connection_id: int) -> tuple[ConnectionKind, str] | None:
    """Remove a connection marked for deletion (its folders and credentials go with it)."""
    row = await (await conn.execute(SQL["delete_connection"], {"id": connection_id})).fetchone()
    return (ConnectionKind(row[0]), row[1]) if row else None


async def live_contact_ids(conn: Conn, user_id: int) -> list[int]:
    """The user's contacts not merged into another (to recount after mail is deleted)."""
    rows = await (await conn.execute(SQL["live_contact_ids"], {"user_id": user_id})).fetchall()
    return [row[0] for row in rows]


# -- sync state ------------------------------------------------------------------------------


async def mark_sync_started(conn: Conn, connection_id: int, now: datetime) -> bool:
    """Mark the connection syncing; False (and unchanged) when it is paused, being deleted or
    waiting for new credentials."""
    cur = await conn.execute(SQL["mark_sync_started"], {"id": connection_id, "now": now})
    return cur.rowcount > 0


async def record_progress(
    conn: Conn, connection_id: int, *, seen: int, stored: int, remaining: int | None
) -> bool:
    """Count a stored batch; True when the connection has been paused or marked for deletion
    meanwhile (the sync stops after this batch)."""
    params = {"id": connection_id, "seen": seen, "stored": stored, "remaining": remaining}
    row = await (await conn.execute(SQL["record_progress"], params)).fetchone()
    return bool(row and row[0])


async def record_activity(
    conn: Conn, connection_id: int, *, at: datetime, folder: str | None
) -> None:
    """The server answered the syncing connection at `at` (reading `folder`, when known)."""
    params = {"id": connection_id, "at": at, "folder": folder}
    await conn.execute(SQL["record_activity"], params)


async def mark_sync_stopped(conn: Conn, connection_id: int) -> str:
    """A sync stopped early for a pause or a deletion: no longer syncing; 'paused' or
    'deleting'."""
    row = await (await conn.execute(SQL["mark_sync_stopped"], {"id": connection_id})).fetchone()
    return str(row[0]) if row else "deleting"


async def mark_sync_finished(conn: Conn, connection_id: int, now: datetime) -> None:
    await conn.execute(SQL["mark_sync_finished"], {"id": connection_id, "now": now})


async def mark_sync_failed(
    conn: Conn,
    connection_id: int,
    *,
    error: str,
    now: datetime,
    needs_reauth: bool = False,
) -> None:
    """Record a failed sync; `error` must be credential-free (it is shown to the user)."""
    status = "needs_reauth" if needs_reauth else "failed"
    params = {"id": connection_id, "status": status, "error": error[:2000], "now": now}
    await conn.execute(SQL["mark_sync_failed"], params)


async def save_cursor(
    conn: Conn,
    *,
    user_id: int,
    connection_id: int,
    change: cursors.CursorChange,
    now: datetime,
) -> None:
    """Write the cursor parts a batch moved (one row per folder) and drop the vanished ones."""
    if change.empty:
        return
    params = {
        "user_id": user_id,
        "id": connection_id,
        "upserts": _dumps(change.upserts),
        "deletes": list(change.deletes),
        "now": now,
    }
    await conn.execute(SQL["save_cursor"], params)


async def forget_folder_sources(
    conn: Conn,
    connection_id: int,
    folders: Sequence[str],
    *,
    mode: Literal["all", "listed", "unlisted"],
    source_ids: Sequence[str] = (),
) -> list[int]:
    """Drop provider ids recorded for `folders` (resync, deletions, expunged messages); the
    messages left in no folder of any connection (see `delete_unlinked_messages`)."""
    params = {
        "connection_id": connection_id,
        "folders": list(folders),
        "mode": mode,
        "source_ids": list(source_ids),
    }
    rows = await (await conn.execute(SQL["forget_folder_sources"], params)).fetchall()
    return [row[0] for row in rows]


async def forget_unread_folders(conn: Conn, connection_id: int, named: Sequence[str]) -> list[int]:
    """After a read from scratch, drop the provider ids of the connection's folders it did not
    name; the messages left in no folder of any connection."""
    params = {"connection_id": connection_id, "names": list(named)}
    unread = [
        row[0] for row in await (await conn.execute(SQL["unread_folders"], params)).fetchall()
    ]
    if not unread:
        return []
    return await forget_folder_sources(conn, connection_id, unread, mode="all")


async def note_unlinked(
    conn: Conn, user_id: int, connection_id: int, message_ids: Sequence[int]
) -> None:
    """Record messages a batch of the connection's sync left in no folder (in its transaction):
    a sync's end deletes those no folder holds by then, after a worker's death the next one."""
    if message_ids:
        params = {"user_id": user_id, "connection_id": connection_id, "ids": list(message_ids)}
        await conn.execute(SQL["note_unlinked"], params)


async def take_unlinked(conn: Conn, user_id: int, connection_id: int) -> list[int]:
    """The connection's recorded deletion candidates, removed from the record."""
    params = {"user_id": user_id, "connection_id": connection_id}
    rows = await (await conn.execute(SQL["take_unlinked"], params)).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True, slots=True)
class Deleted:
    """Messages deleted because no folder holds them, and the contacts they were linked to."""

    message_ids: tuple[int, ...] = ()
    contact_ids: tuple[int, ...] = ()


async def delete_unlinked_messages(conn: Conn, user_id: int, message_ids: Sequence[int]) -> Deleted:
    """Delete those of `message_ids` that no folder of any connection holds, and recount their
    threads (emptied threads go). Call in a transaction."""
    if not message_ids:
        return Deleted()
    params = {"user_id": user_id, "ids": sorted(set(message_ids))}
    row = await (await conn.execute(SQL["delete_unlinked_messages"], params)).fetchone()
    assert row is not None
    deleted, thread_ids, contact_ids = row
    if thread_ids:
        await conn.execute(SQL["recount_threads"], {"ids": list(thread_ids)})
    return Deleted(message_ids=tuple(deleted), contact_ids=tuple(contact_ids))


async def mark_summaries_stale(conn: Conn, user_id: int, message_ids: Sequence[int]) -> list[int]:
    """Summaries citing any of these (deleted) messages stop being current; their contacts."""
    if not message_ids:
        return []
    params = {"user_id": user_id, "ids": list(message_ids)}
    rows = await (await conn.execute(SQL["mark_summaries_stale"], params)).fetchall()
    return [row[0] for row in rows]


async def mark_relationships_analyzed(conn: Conn, user_id: int, now: datetime) -> int:
    cur = await conn.execute(SQL["mark_relationships_analyzed"], {"id": user_id, "now": now})
    return cur.rowcount


# -- messages --------------------------------------------------------------------------------


def _copy(table: str, fields: Sequence[tuple[str, str]]) -> tuple[str, tuple[str, ...]]:
    """A binary `COPY table (columns) FROM STDIN` statement and its column types."""
    columns = ", ".join(f'"{name}"' for name, _ in fields)
    return f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)", tuple(t for _, t in fields)


_COPY_MESSAGES, _COPY_MESSAGE_TYPES = _copy(
    "crm.messages",
    (("id", "int8"), ("user_id", "int8"), ("thread_id", "int8"), ("created_on", "timestamptz"),
     ("problems", "text[]"), *MESSAGE_FIELDS),
)  # fmt: skip
_COPY_PARTICIPANTS, _COPY_PARTICIPANT_TYPES = _copy(
    "crm.message_participants", (("message_id", "int8"), *PARTICIPANT_FIELDS)
)
_INSERT_ATTEMPTS = 5
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones: a day ahead is not "the future" yet


async def defer_search(conn: Conn) -> None:
    """The messages this transaction stores get their search rows when extract-contacts
    processes them (`index_for_search`), not in the store (migration 0038)."""
    await conn.execute(SQL["defer_search"])


async def last_message_id(conn: Conn) -> int:
    """The last message id the sequence handed out (0 before the first)."""
    cur = await conn.execute(SQL["messages_last_id"])
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def unindexed_messages(conn: Conn, user_id: int, *, after: int) -> list[int]:
    """The user's message ids above `after` that have no search row yet, in order."""
    cur = await conn.execute(SQL["messages_unindexed"], {"user_id": user_id, "after": after})
    return [r[0] for r in await cur.fetchall()]


async def unsearchable_messages(conn: Conn, *, before: datetime) -> dict[int, list[int]]:
    """Per user, the ids of messages stored before `before` that have no search row yet."""
    cur = await conn.execute(SQL["messages_unsearchable"], {"before": before})
    return {user_id: list(ids) for user_id, ids in await cur.fetchall()}


async def index_for_search(conn: Conn, message_ids: Sequence[int]) -> None:
    """Write the search rows of messages stored with their indexing deferred."""
    if message_ids:
        await conn.execute(SQL["messages_index_search"], {"ids": list(message_ids)})


async def store_messages(
    conn: Conn,
    *,
    user_id: int,
    connection_id: int,
    messages: Sequence[PreparedMessage],
    now: datetime,
) -> StoredPage:
    """Store a batch: new messages once each, every (folder, source id) where one was found.

    Duplicates (same dedup key, in this batch or already stored) are not stored again; their
    locations are still recorded and problems they add are merged into the stored copy.
    A dozen statements per batch, whatever its size; the rows stream in with binary COPY.
    Call inside a transaction.
    """
    if not messages:  # a page of skipped mail only moves the cursor
        return StoredPage(seen=0, new_message_ids=(), duplicates=0)
    horizon = now + FUTURE_SLACK
    unique = _unique([without_future_date(m, horizon) for m in messages])
    stored, fresh, new_ids, threads = await _insert_new(conn, user_id, unique, now)
    ids = {**stored, **dict(zip((m.dedup_key for m in fresh), new_ids, strict=True))}
    unlinked = await _link_folders(conn, connection_id, messages, ids)
    await _merge_problems(conn, [(stored[k], unique[k].problems) for k in stored])
    return StoredPage(
        seen=len(messages),
        new_message_ids=tuple(new_ids),
        duplicates=len(messages) - len(new_ids),
        threads_touched=threads,
        unlinked=unlinked,
    )


async def _insert_new(
    conn: Conn, user_id: int, unique: Mapping[str, PreparedMessage], now: datetime
) -> tuple[dict[str, int], list[PreparedMessage], list[int], int]:
    """Insert the messages not stored yet: (stored key -> id, fresh, their new ids, threads).

    COPY cannot skip conflicts, so it runs in a savepoint: when a concurrent sync of the same
    user stored one of the keys after we looked, the batch is looked up and written again.
    """
    for _ in range(_INSERT_ATTEMPTS):
        stored = await _existing_ids(conn, user_id, list(unique))
        fresh = [m for key, m in unique.items() if key not in stored]
        if not fresh:
            return stored, [], [], 0
        try:
            async with conn.transaction():
                thread_ids, counted = await _assign_threads(conn, user_id, fresh)
                new_ids = await _allocate_ids(conn, len(fresh))
                await _copy_messages(conn, user_id, fresh, new_ids, thread_ids, now)
                await _copy_participants(conn, fresh, new_ids)
                await _bump_threads(conn, fresh, thread_ids, counted)
                threads = len(set(thread_ids))
        except psycopg.errors.UniqueViolation:
            continue
        return stored, fresh, new_ids, threads
    raise MailError("messages kept being stored concurrently; the batch will be retried")


def _unique(messages: Sequence[PreparedMessage]) -> dict[str, PreparedMessage]:
    """First copy per dedup key; later copies' problems are merged into it."""
    unique: dict[str, PreparedMessage] = {}
    for message in messages:
        key = message.dedup_key
        first = unique.get(key)
        if first is None:
            unique[key] = message
        elif not set(message.problems) <= set(first.problems):
            problems = tuple(dict.fromkeys((*first.problems, *message.problems)))
            unique[key] = first._replace(problems=problems)
    return unique


async def _existing_ids(conn: Conn, user_id: int, keys: list[str]) -> dict[str, int]:
    params = {"user_id": user_id, "keys": keys}
    rows = await (await conn.execute(SQL["find_existing_messages"], params)).fetchall()
    return dict(rows)


async def _allocate_ids(conn: Conn, count: int) -> list[int]:
    rows = await (await conn.execute(SQL["allocate_message_ids"], {"count": count})).fetchall()
    return [row[0] for row in rows]


async def _assign_threads(
    conn: Conn, user_id: int, fresh: Sequence[PreparedMessage]
) -> tuple[list[int], set[int]]:
    """The thread id of each fresh message, creating threads and keys as needed; and the ids
    of the threads created, which already count their fresh messages."""
    keys = [m.thread_keys for m in fresh]
    all_keys = list({k for ks in keys for k in ks})
    params = {"user_id": user_id, "keys": all_keys}
    rows = await (await conn.execute(SQL["find_thread_keys"], params)).fetchall()
    plan = plan_threads(keys, [m.subject for m in fresh], dict(rows))
    created = await _create_threads(conn, user_id, plan, fresh)
    ids = [plan.existing.get(i) or created[plan.new[i]] for i in range(len(fresh))]
    if plan.aliases:
        await conn.execute(
            SQL["insert_thread_keys"],
            {
                "user_id": user_id,
                "keys": list(plan.aliases),
                "thread_ids": [ids[i] for i in plan.aliases.values()],
            },
        )
    return ids, set(created.values())


async def _create_threads(
    conn: Conn, user_id: int, plan: ThreadPlan, fresh: Sequence[PreparedMessage]
) -> dict[str, int]:
    """Create the plan's new threads with their messages counted (no second write of each
    new thread to count them, issue 21); key -> thread id."""
    if not plan.new_subjects:
        return {}
    counts = _counts((key, fresh[i].date) for i, key in plan.new.items())
    threads = [{"key": k, "subject": s, **counts[k]} for k, s in plan.new_subjects.items()]
    params = {"user_id": user_id, "threads": _dumps(threads)}
    rows = await (await conn.execute(SQL["upsert_threads"], params)).fetchall()
    return {key: thread_id for thread_id, key in rows}


async def _copy_messages(
    conn: Conn,
    user_id: int,
    fresh: Sequence[PreparedMessage],
    ids: Sequence[int],
    thread_ids: Sequence[int],
    now: datetime,
) -> None:
    async with conn.cursor().copy(_COPY_MESSAGES) as copy:
        copy.set_types(_COPY_MESSAGE_TYPES)
        for message, message_id, thread_id in zip(fresh, ids, thread_ids, strict=True):
            problems = list(message.problems)
            await copy.write_row((message_id, user_id, thread_id, now, problems, *message.row))


async def _copy_participants(
    conn: Conn, fresh: Sequence[PreparedMessage], ids: Sequence[int]
) -> None:
    async with conn.cursor().copy(_COPY_PARTICIPANTS) as copy:
        copy.set_types(_COPY_PARTICIPANT_TYPES)
        for message, message_id in zip(fresh, ids, strict=True):
            for participant in message.participants:
                await copy.write_row((message_id, *participant))


async def _bump_threads(
    conn: Conn, fresh: Sequence[PreparedMessage], thread_ids: Sequence[int], counted: set[int]
) -> None:
    """Count the fresh messages into the threads that existed before the batch."""
    pairs = zip(thread_ids, (m.date for m in fresh), strict=True)
    counts = _counts((thread_id, date) for thread_id, date in pairs if thread_id not in counted)
    rows = [{"thread_id": thread_id, **counts[thread_id]} for thread_id in sorted(counts)]
    if rows:
        await conn.execute(SQL["bump_threads"], {"bumps": _dumps(rows)})


def _counts(dated: Iterable[tuple[T, datetime | None]]) -> dict[T, dict[str, Any]]:
    """Per thread (id or key): how many messages, and the first and last of their dates."""
    dates: dict[T, list[datetime]] = {}
    added: dict[T, int] = {}
    for thread, date in dated:
        added[thread] = added.get(thread, 0) + 1
        found = dates.setdefault(thread, [])
        if date is not None:
            found.append(date)
    return {
        thread: {
            "added": count,
            "first_date": min(dates[thread]).isoformat() if dates[thread] else None,
            "last_date": max(dates[thread]).isoformat() if dates[thread] else None,
        }
        for thread, count in added.items()
    }


async def _link_folders(
    conn: Conn, connection_id: int, messages: Sequence[PreparedMessage], ids: Mapping[str, int]
) -> tuple[int, ...]:
    """Link each message to its (folder, provider id); the messages a moved id left unlinked."""
    names = list(dict.fromkeys(m.folder for m in messages))
    params = {"connection_id": connection_id, "names": names}
    folder_ids = dict(
        (name, folder_id)
        for folder_id, name in await (await conn.execute(SQL["ensure_folders"], params)).fetchall()
    )
    links = [[folder_ids[m.folder], m.source_id, ids[m.dedup_key]] for m in messages]
    cur = await conn.execute(SQL["link_message_folders"], {"links": _dumps(links)})
    return tuple(row[0] for row in await cur.fetchall())


async def _merge_problems(conn: Conn, problems: Sequence[tuple[int, tuple[str, ...]]]) -> None:
    """Add to stored messages (by id) the problems a duplicate copy of them had."""
    rows = [{"id": message_id, "problems": list(found)} for message_id, found in problems if found]
    if rows:
        await conn.execute(SQL["merge_problems"], {"problems": _dumps(rows)})


# -- encoding --------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    """JSON for a jsonb parameter, with undecodable surrogates replaced (jsonb rejects them)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
