"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import httpx
from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_readyz__503_when_a_migration_is_pending(
    client: httpx.AsyncClient, pool: AsyncConnectionPool
) -> None:
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM schema_migrations WHERE version = 5")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["pending"] == ["0005_web"]


async def test_metrics__queue_and_http(client: httpx.AsyncClient, admin: User) -> None:
    await client.get("/api/me", headers=admin.auth)
    await client.get("/api/jobs/12345", headers=admin.auth)
    text = (await client.get("/metrics")).text
    assert 'fluffymail_http_requests_total{method="GET",route="/api/me",status="200"} 1.0' in text
    assert 'route="/api/jobs/{job_id}",status="404"' in text
    assert "fluffymail_http_request_duration_seconds_bucket" in text
    assert "fluffymail_jobs_completed" in text  # the queue's own metrics, same registry
