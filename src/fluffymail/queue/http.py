"""An ASGI app for a queue process: `/metrics` (Prometheus) and `/healthz` (liveness for platforms)."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fluffymail.queue.client import JobQueue
from fluffymail.queue.metrics import QueueMetrics


def create_app(queue: JobQueue, metrics: QueueMetrics) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(3):
                async with queue.pool.connection() as conn:
                    await conn.execute("SELECT 1")
        except (TimeoutError, OSError, Exception) as exc:  # any failure means unhealthy
            return JSONResponse({"status": "unhealthy", "error": repr(exc)}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "worker": queue.worker_id,
                "leader": queue.maintenance.is_leader,
                "queues": queue.queue_names(),
            }
        )

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics_endpoint)])
