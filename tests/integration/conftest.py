"""Queue fixtures: fast-polling JobQueue instances stopped at teardown, and SQL helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from fluffymail.queue import JobQueue
from tests import pgbouncer


@pytest.fixture
async def make_queue(
    pool: AsyncConnectionPool, direct_db_url: str
) -> AsyncIterator[Callable[..., JobQueue]]:
    made: list[JobQueue] = []

    def make(**overrides: Any) -> JobQueue:
        options = {
            "poll_interval": 0.05,
            "rescue_interval": 0.2,
            "heartbeat_interval": 0.1,
            # behind PgBouncer the LISTEN session (and its liveness lock) goes straight there
            **({"listen_url": direct_db_url} if pgbouncer.bounced() else {}),
            **overrides,
        }
        queue = JobQueue(pool, **options)
        made.append(queue)
        return queue

    yield make
    for queue in made:
        await queue.stop(grace=1)


@pytest.fixture
async def queue(make_queue: Callable[..., JobQueue]) -> JobQueue:
    return make_queue()


class Sql:
    """Run ad-hoc SQL in tests (backdating rows and reading state)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def execute(self, query: str, *params: Any) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(query, params or None)

    async def all(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            return await (await conn.execute(query, params or None)).fetchall()

    async def one(self, query: str, *params: Any) -> Any:
        rows = await self.all(query, *params)
        return rows[0][0] if rows else None


@pytest.fixture
def sql(pool: AsyncConnectionPool) -> Sql:
    return Sql(pool)
