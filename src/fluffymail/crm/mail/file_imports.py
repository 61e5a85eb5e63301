"""Which connection an import of files goes to: the user's connection of that path, else the one
that read the same mbox file elsewhere (moved, copied, uploaded again), else a new one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import Connection, ConnectionKind

__all__ = ["FileConnection", "SameFile", "connect_files"]


class SameFile(Protocol):
    """Whether the file at `path` is the one an import that left `cursor` read (the file
    sources know: `integrations.mail.file_source.same_mbox`)."""

    def __call__(self, path: Path, cursor: dict[str, Any] | None) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class FileConnection:
    """The connection an import goes to, and how it was chosen."""

    connection: Connection
    created: bool
    moved_from: str | None = None  # where it read the same file before (now `source`)


async def connect_files(
    conn: mail_repo.Conn,
    *,
    user_id: int,
    kind: ConnectionKind,
    source: Path,
    display_name: str,
    same_file: SameFile,
) -> FileConnection:
    """The connection that imports `source` for the user: the one of that path; else the
    first whose last read `same_file` recognises in `source`, moved there (its cursor and
    mail go on: the import stores only what is missing); else a new one. Run it in the
    transaction that sends the import's sync."""
    earlier = await mail_repo.file_connections(conn, user_id, kind)
    for connection in earlier:
        if connection.source == str(source):
            return FileConnection(connection=connection, created=False)
    for connection in earlier:
        if same_file(source, connection.cursor):
            moved = await mail_repo.move_connection(conn, connection.id, str(source))
            if moved is not None:
                return FileConnection(connection=moved, created=False, moved_from=connection.source)
    connection, created = await mail_repo.upsert_connection(
        conn, user_id=user_id, kind=kind, source=str(source), display_name=display_name
    )  # a connection of that path being deleted is found again here, as before
    return FileConnection(connection=connection, created=created)
