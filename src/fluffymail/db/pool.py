"""Connection pools: resolve the database URL from settings and open psycopg pools."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from fluffymail.config import Settings
from fluffymail.db import embedded


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
        kwargs={"autocommit": True, "application_name": name},
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    return pool
