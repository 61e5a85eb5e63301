"""An ASGI app for a queue process: `/metrics` (Prometheus) and `/healthz` (liveness for platforms).

`/healthz` tells anyone only `ok` or `unhealthy`; the worker's id, leadership, queues and the
failure's cause go only to a caller on this machine or one with the token. `/metrics` needs the
token when one is given.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fluffymail.queue.client import JobQueue
from fluffymail.queue.metrics import QueueMetrics


def create_app(queue: JobQueue, metrics: QueueMetrics, token: str | None = None) -> Starlette:
    def has_token(request: Request) -> bool:
        sent = request.headers.get("authorization", "").encode()
        return token is not None and secrets.compare_digest(sent, f"Bearer {token}".encode())

    def may_see_details(request: Request) -> bool:
        return has_token(request) or is_loopback(request)

    async def healthz(request: Request) -> JSONResponse:
        body: dict[str, Any]
        try:
            async with asyncio.timeout(3):
                async with queue.pool.connection() as conn:
                    await conn.execute("SELECT 1")
        except Exception as exc:  # any failure means unhealthy
            body = {"status": "unhealthy"}
            if may_see_details(request):
                body["error"] = repr(exc)
            return JSONResponse(body, status_code=503)
        body = {"status": "ok"}
        if may_see_details(request):
            body |= {
                "worker": queue.worker_id,
                "leader": queue.maintenance.is_leader,
                "queues": queue.queue_names(),
            }
        return JSONResponse(body)

    async def metrics_endpoint(request: Request) -> Response:
        if token is not None and not has_token(request):
            return JSONResponse(
                {"status": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics_endpoint)])


def is_loopback(request: Request) -> bool:
    """The TCP peer is this machine (serve without proxy headers, so it is the real peer)."""
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False
