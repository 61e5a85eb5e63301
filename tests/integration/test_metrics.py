"""Prometheus metrics and the worker's /healthz."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
from prometheus_client import generate_latest

from fluffymail.cli.worker import serve_metrics
from fluffymail.config import Settings
from fluffymail.queue import Job, JobQueue
from fluffymail.queue.http import create_app
from fluffymail.queue.metrics import QueueMetrics
from tests.helpers import settled, wait_for


async def test_metrics__counts_durations_depth_and_backlog_age(queue: JobQueue, sql) -> None:
    await queue.create_queue("q", retry_limit=0)
    await queue.create_queue("later")
    metrics = QueueMetrics(queue)

    async def handler(job: Job) -> None:
        if job.data == "bad":
            raise RuntimeError("nope")

    await queue.insert("q", ["ok", "ok", "bad"])
    await queue.insert("later", [1, 2])
    await sql.execute(
        "UPDATE queue.job SET start_after = now() - interval '90 seconds' WHERE name = 'later'"
    )
    await queue.work("q", handler, concurrency=3)
    await wait_for(lambda: settled(queue, "q"))
    await wait_for(lambda: _has_completed(metrics))
    await queue.maintenance.register()
    await metrics.refresh()
    text = generate_latest(metrics.registry).decode()
    assert 'fluffymail_jobs_completed_total{queue="q"} 2.0' in text
    assert 'fluffymail_jobs_failed_total{queue="q"} 1.0' in text
    assert 'fluffymail_job_duration_seconds_count{outcome="completed",queue="q"} 2.0' in text
    assert 'fluffymail_queue_jobs{queue="later",state="available"} 2.0' in text
    assert 'fluffymail_queue_workers{queue="q"} 1.0' in text
    oldest = next(
        line
        for line in text.splitlines()
        if line.startswith('fluffymail_queue_oldest_available_seconds{queue="later"}')
    )
    assert float(oldest.split()[-1]) >= 89


async def _has_completed(metrics: QueueMetrics) -> bool:
    return b'fluffymail_jobs_completed_total{queue="q"} 2.0' in generate_latest(metrics.registry)


def _client(app: Any, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://worker")


async def test_worker_http__healthz_and_metrics(queue: JobQueue) -> None:
    await queue.create_queue("q")
    app = create_app(queue, QueueMetrics(queue))
    async with _client(app, "127.0.0.1") as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.json()["worker"] == queue.worker_id  # details for this machine
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "fluffymail_jobs_completed" in metrics.text


async def test_worker_http__healthz_tells_others_only_the_status(queue: JobQueue) -> None:
    app = create_app(queue, QueueMetrics(queue), token="t0ken")
    async with _client(app, "203.0.113.9") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        with_token = await client.get("/healthz", headers={"Authorization": "Bearer t0ken"})
        assert set(with_token.json()) == {"status", "worker", "leader", "queues"}


async def test_worker_http__unhealthy_without_the_cause_for_others() -> None:
    class Broken:
        @contextlib.asynccontextmanager
        async def connection(self) -> AsyncIterator[None]:
            raise OSError("connection refused by db.internal:5432")
            yield

    queue = SimpleNamespace(pool=Broken())
    app = create_app(queue, None)  # type: ignore[arg-type]
    async with _client(app, "203.0.113.9") as client:
        response = await client.get("/healthz")
        assert (response.status_code, response.json()) == (503, {"status": "unhealthy"})
    async with _client(app, "::1") as client:
        assert "db.internal" in (await client.get("/healthz")).json()["error"]


async def test_worker_http__metrics_need_the_token_when_one_is_set(queue: JobQueue) -> None:
    app = create_app(queue, QueueMetrics(queue), token="t0ken")
    async with _client(app, "127.0.0.1") as client:
        assert (await client.get("/metrics")).status_code == 401
        response = await client.get("/metrics", headers={"Authorization": "Bearer t0ken"})
        assert response.status_code == 200 and "fluffymail_jobs_completed" in response.text


async def test_worker_metrics_server__binds_loopback_by_default(queue: JobQueue) -> None:
    assert Settings(_env_file=None).metrics_host == "127.0.0.1"  # type: ignore[call-arg]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with serve_metrics(queue, port) as server:
        assert server is not None
        await wait_for(lambda: _started(server))
        (bound,) = [sock.getsockname()[0] for s in server.servers for sock in s.sockets]
        assert bound == "127.0.0.1"


async def _started(server: Any) -> bool:
    return bool(server.started)


async def test_throughput__completed_per_minute_and_paused_queues(queue: JobQueue, sql) -> None:
    await queue.create_queue("q")
    await queue.insert("q", list(range(5)))
    for job in await queue.fetch("q", 5):
        await queue.complete(job)
    await sql.execute(
        "UPDATE queue.job SET completed_on = completed_on - interval '3 minutes',"
        " keep_until = keep_until - interval '3 minutes' WHERE id IN (SELECT id FROM queue.job LIMIT 2)"
    )
    _now, counts = await queue.get_throughput(10)
    assert (
        len(counts) == 10
        and sum(counts) == 5
        and counts[-1] + counts[-2] >= 3
        and max(counts[:-2]) == 2
    )
    await queue.pause_queue("q")
    assert await queue.get_paused_queues() == {"q"}
