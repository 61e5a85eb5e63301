"""Connection pools: resolve the database URL from settings, open psycopg pools whose
connections notice a dead network (and work behind a transaction pooler such as PgBouncer),
and sever a connection that stopped answering."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.db import embedded

# libpq options so a connection to an unreachable server fails instead of waiting for ever:
# give up connecting after 5 s; probe an idle connection after 10 s, every 3 s, 3 times; and
# drop one whose sent data has gone unacknowledged for 10 s. (TCP only; ignored on sockets.)
NETWORK_KWARGS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def database_url(settings: Settings) -> str:
    """The configured DATABASE_URL, or the embedded server's (started on demand)."""
    if settings.database_url:
        return settings.database_url
    return embedded.start(settings.data_dir)


def pooled(settings: Settings) -> bool:
    """DATABASE_URL is a transaction pooler: one server session per transaction, not per
    connection, so no statement may be prepared and no session state outlive a transaction."""
    return settings.database_pooler == "transaction"


def session_url(settings: Settings, url: str) -> str | None:
    """Where a connection keeps its session (LISTEN, session advisory locks): `url` itself,
    or behind a transaction pooler the direct URL (None when there is none)."""
    return settings.database_direct_url if pooled(settings) else url


async def open_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    name: str = "fluffymail",
    pooler: bool = False,
    jit: bool = True,
) -> AsyncConnectionPool:
    """Open an autocommit pool; callers use `conn.transaction()` where they need one.

    `pooler`: `url` is a transaction pooler, so statements are never prepared (psycopg would
    prepare one after 5 runs, and the next transaction may land on a server without it).
    `jit=False`: the connections run without PostgreSQL's JIT compiler, which a statement
    whose estimate passes `jit_above_cost` pays for on every run (20-110 ms for some of the
    web app's at 1M messages, where the statement itself takes a few ms; issue 19). It is a
    session setting, so not behind a transaction pooler: there, set it for the role instead
    (`ALTER ROLE fluffymail SET jit = off`). Not a startup option either: PgBouncer refuses
    those.
    """
    kwargs: dict[str, Any] = {"autocommit": True, "application_name": name, **NETWORK_KWARGS}
    if pooler:
        kwargs["prepare_threshold"] = None
    configure = _without_jit if not jit and not pooler else None
    pool = AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, kwargs=kwargs, configure=configure, open=False
    )
    await pool.open(wait=True, timeout=30)
    return pool


async def _without_jit(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.execute("SET jit = off")


@contextlib.asynccontextmanager
async def migration_connection(
    pool: AsyncConnectionPool, direct_url: str | None
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection to run migrations on: straight to the server when `direct_url` is given
    (long DDL does not hold a pooler's slot or meet its timeouts), else one from `pool`."""
    if direct_url is None:
        async with pool.connection() as conn:
            yield conn
        return
    conn = await psycopg.AsyncConnection.connect(direct_url, autocommit=True, **NETWORK_KWARGS)
    async with conn:
        yield conn


def sever(conn: psycopg.AsyncConnection[Any]) -> None:
    """Shut the connection's socket down (without closing the descriptor psycopg owns): a
    statement waiting on it fails at once, and a pool discards the connection when it is
    returned. For connections to a server that stopped answering."""
    with contextlib.suppress(OSError, psycopg.Error):
        sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()
