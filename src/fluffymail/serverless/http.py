"""`fluffymail serverless http`: a drain run per authenticated `POST /drain`, for schedulers
that call a URL (Cloud Scheduler to a Cloud Run service, any cron-as-a-service).

A process of its own, not a route of the web app: it runs job handlers, which the web app never
imports, and a platform can give it its own timeout, memory and scale-to-zero.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse

from fluffymail.config import Settings
from fluffymail.errors import ConfigError
from fluffymail.serverless import JOBS, run_drain

WORK_LEFT = 503  # the budget ended with jobs due: a scheduler that retries 5xx calls again


def create_app(
    config: Settings, *, jobs: str = JOBS, on_abandoned: Callable[[], None] | None = None
) -> FastAPI:
    """The drain server's app; refuses to be built without FLUFFYMAIL_DRAIN_SECRET.

    `on_abandoned` is called after a run that gave up on handlers ignoring cancellation (they
    still run in this process): the server then exits, as the worker does, for a fresh one."""
    if config.drain_secret is None or not config.drain_secret.get_secret_value():
        raise ConfigError(
            "FLUFFYMAIL_DRAIN_SECRET is not set: the drain endpoint refuses to run without "
            "a shared secret (make one with `fluffymail secrets generate-key`)"
        )
    expected = f"Bearer {config.drain_secret.get_secret_value()}".encode()
    running = asyncio.Lock()
    app = FastAPI(title="FluffyMail drain", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/drain")
    async def drain(
        authorization: Annotated[str, Header()] = "",
        max_seconds: Annotated[float | None, Query(gt=0)] = None,
    ) -> JSONResponse:
        """Work the due jobs for at most `max_seconds` (default FLUFFYMAIL_DRAIN_SECONDS).

        200: the queues are empty; 503 with `Retry-After: 0`: jobs are due that the budget
        did not reach; 401: no or a wrong secret; 409: a run is already going on here; 422:
        max_seconds not in (0, FLUFFYMAIL_DRAIN_SECONDS]."""
        if not hmac.compare_digest(authorization.encode(), expected):
            return JSONResponse(
                {"detail": "a valid `Authorization: Bearer <FLUFFYMAIL_DRAIN_SECRET>` is required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if max_seconds is not None and max_seconds > config.drain_seconds:
            detail = f"max_seconds may be at most FLUFFYMAIL_DRAIN_SECONDS ({config.drain_seconds})"
            return JSONResponse({"detail": detail}, 422)
        if running.locked():
            return JSONResponse({"detail": "a drain run is already going on here"}, 409)
        async with running:
            report = await run_drain(config, max_seconds, jobs=jobs)
        if not report.clean and on_abandoned is not None:
            on_abandoned()
        if report.work_left:
            return JSONResponse(report.as_dict(), WORK_LEFT, headers={"Retry-After": "0"})
        return JSONResponse(report.as_dict())

    return app
