"""The embedded PostgreSQL (pgserver) used when no DATABASE_URL is configured.

The server's data directory lives under the user's data dir and is reused across runs; the
server is stopped when the last process using it exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from fluffymail.errors import DatabaseError

log = logging.getLogger(__name__)
DATABASE = "fluffymail"


def start(data_dir: Path, database: str = DATABASE, *, throwaway: bool = False) -> str:
    """Start (or join) the embedded server and return a URL for `database`, creating it if needed.

    `throwaway`: the data directory is deleted when the server stops (a test session's server),
    so nothing it writes is worth a disk flush or a vacuum: it runs without fsync, full-page
    writes and autovacuum (a test's CREATE DATABASE and commits stop waiting for the disk, and
    no worker vacuums a database that lives seconds). Commits stay synchronous: a commit's WAL
    is still written at once, which VACUUM needs to mark a page all-visible.
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: starting it is slow and only needed without DATABASE_URL

    pgdata = data_dir / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="delete" if throwaway else "stop")
    except Exception as exc:
        raise DatabaseError(f"could not start the embedded PostgreSQL in {pgdata}: {exc}") from exc
    _keep_alive.append(server)
    if throwaway:
        server.psql(_NOT_DURABLE)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    log.info("embedded postgres ready", extra={"action": "db.embedded", "pgdata": str(pgdata)})
    return server.get_uri(database)


_NOT_DURABLE = """
ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET full_page_writes = off;
ALTER SYSTEM SET autovacuum = off;
SELECT pg_reload_conf();
"""
_keep_alive: list[object] = []  # the handle must outlive the caller; pgserver stops it at exit
