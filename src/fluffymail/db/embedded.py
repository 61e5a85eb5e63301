"""The embedded PostgreSQL (pgserver) used when no DATABASE_URL is configured.

The server's data directory lives under the user's data dir and is reused across runs; the
server is stopped when the last process using it exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from fluffymail.errors import DatabaseError

log = logging.getLogger(__name__)
DATABASE = "fluffymail"
HANDLES = ".handle_pids.json"  # pgserver's list of the processes using the server


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
        with one_start_at_a_time():
            forget_dead_users(pgdata)
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


def forget_dead_users(pgdata: Path) -> None:
    """Take the processes that died without a word (SIGKILL, OOM, a power cut) off pgserver's
    list of the server's users. The last user to leave stops the server at exit; a dead one
    left on the list meant nobody ever was the last again, and the server ran for good."""
    import psutil

    with warnings.catch_warnings():  # as in `start`
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import PostgresServer
        from pgserver.utils import DiskList

    with PostgresServer._lock:  # pgserver's own, held whenever it reads or writes the list
        users = DiskList(pgdata / HANDLES)
        listed = users.get()
        alive = [pid for pid in listed if psutil.pid_exists(pid)]
        if alive != listed:
            users.put(alive)
            log.info(
                "embedded postgres: dead users forgotten",
                extra={"action": "db.embedded_forgot", "pids": sorted(set(listed) - set(alive))},
            )


@contextlib.contextmanager
def one_start_at_a_time(lock_dir: Path | None = None) -> Iterator[None]:
    """Root's embedded starts take turns; anyone else's need not.

    As root, pgserver runs PostgreSQL as a system user that it adds with `useradd` before it
    takes its own lock. Two processes starting at once on a machine without that user (two
    pytest workers, a web app and its worker) both add it: one chowns its data directory to the
    uid its own `useradd` gave, the other's `useradd` replaces that entry, and initdb fails with
    "could not change permissions of directory" (reproduced with `userdel pgserver` and the
    tests' embedded run: two `useradd` calls, one server up, the other's tests all in error).
    """
    if os.name != "posix" or os.geteuid() != 0:
        yield
        return
    import fcntl

    lock = (lock_dir or Path(tempfile.gettempdir())) / "fluffymail-embedded-start.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


_NOT_DURABLE = """
ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET full_page_writes = off;
ALTER SYSTEM SET autovacuum = off;
SELECT pg_reload_conf();
"""
_keep_alive: list[object] = []  # the handle must outlive the caller; pgserver stops it at exit
