"""/healthz, /readyz and /metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from fluffymail.web.app import create_app
from tests.integration.web.conftest import User, web_settings


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
    assert response.json() == {
        "status": "unavailable",
        "reason": "the schema is behind: run fluffymail db upgrade",
    }  # anonymous: the migration's name goes to the log only


async def test_metrics__off_unless_a_token_is_configured(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_metrics__queue_and_http_for_the_token_holder(
    db_url: str, tmp_path: Path, make_user: Callable[..., Awaitable[User]]
) -> None:
    settings = web_settings(db_url, tmp_path).model_copy(
        update={"metrics_token": SecretStr("scrape-me")}
    )
    admin = await make_user("admin@example.com", admin=True)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        await client.get("/api/me", headers=admin.auth)
        await client.get("/api/jobs/12345", headers=admin.auth)
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers=admin.auth)).status_code == 401
        response = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    text = response.text
    assert 'fluffymail_http_requests_total{method="GET",route="/api/me",status="200"} 1.0' in text
    assert 'route="/api/jobs/{job_id}",status="404"' in text
    assert "fluffymail_http_request_duration_seconds_bucket" in text
    assert "fluffymail_jobs_completed" in text  # the queue's own metrics, same registry
