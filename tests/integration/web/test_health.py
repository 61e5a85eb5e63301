"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import contextlib
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


async def test_two_apps_in_one_process__each_answers_with_its_own_settings(
    db_url: str, tmp_path: Path
) -> None:
    """Apps made in one process share their prepared routes (`app._routes`), not their state."""
    base = web_settings(db_url, tmp_path)
    tokens = ("first", "second")
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for token in tokens:
            app = create_app(base.model_copy(update={"metrics_token": SecretStr(token)}))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://test")
                )
            )
        for token in (*tokens, *reversed(tokens)):
            statuses = [
                (await c.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status_code
                for c in clients
            ]
            assert statuses == [200 if t == token else 401 for t in tokens]
