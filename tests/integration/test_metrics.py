"""Prometheus metrics and the worker's /healthz."""

from __future__ import annotations

import httpx
from prometheus_client import generate_latest

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


async def test_worker_http__healthz_and_metrics(queue: JobQueue) -> None:
    await queue.create_queue("q")
    app = create_app(queue, QueueMetrics(queue))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://worker"
    ) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "fluffymail_jobs_completed" in metrics.text


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
