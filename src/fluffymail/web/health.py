"""`/healthz` (the process is up), `/readyz` (database reachable, migrations current) and
`/metrics` (the queue's Prometheus metrics plus HTTP request counts and latencies), served only
when FLUFFYMAIL_METRICS_TOKEN is set and only to a scraper that sends it as a Bearer token."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fluffymail.db import migrate
from fluffymail.web.deps import State
from fluffymail.web.errors import NotAuthenticated, NotFound

router = APIRouter(tags=["health"])
log = logging.getLogger("fluffymail.web")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers and its schema is current",
    responses={503: {"description": "Not ready"}},
)
async def readyz(state: State) -> Any:
    """Anonymous, so it names no error and no migration: those go to the log."""
    try:
        async with asyncio.timeout(3), state.pool.connection() as conn:
            pending = await migrate.pending(conn)
    except Exception:  # any failure means not ready
        log.warning("not ready: database unreachable", exc_info=True, extra={"action": "web.ready"})
        return JSONResponse(
            {"status": "unavailable", "reason": "the database does not answer"}, status_code=503
        )
    if pending:
        names = [f"{m.version:04d}_{m.name}" for m in pending]
        log.warning(
            "not ready: migrations pending", extra={"action": "web.ready", "pending": names}
        )
        return JSONResponse(
            {"status": "unavailable", "reason": "the schema is behind: run fluffymail db upgrade"},
            status_code=503,
        )
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, state: State) -> Response:
    token = state.settings.metrics_token
    if token is None:
        raise NotFound()
    sent = request.headers.get("authorization", "").encode()
    if not secrets.compare_digest(sent, f"Bearer {token.get_secret_value()}".encode()):
        raise NotAuthenticated("send the metrics token: Authorization: Bearer <token>")
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """ASGI middleware counting requests and timing them by method, route template and status."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "fluffymail_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "fluffymail_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"  # bounded label set
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.latency.labels(scope["method"], route).observe(time.perf_counter() - started)
