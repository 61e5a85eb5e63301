"""Connection pools: resolve the database URL from settings, open psycopg pools whose
connections notice a dead network, and sever a connection that stopped answering."""

from __future__ import annotations

import contextlib
import os
import socket
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


async def open_pool(
    url: str, *, min_size: int = 2, max_size: int = 10, name: str = "fluffymail"
) -> AsyncConnectionPool:
    """Open an autocommit pool; callers use `conn.transaction()` where they need one."""
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True, "application_name": name, **NETWORK_KWARGS},
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    return pool


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
