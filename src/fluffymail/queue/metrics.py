"""Prometheus metrics for a JobQueue: counters and durations from its events, depth from the database.

metrics = QueueMetrics(queue)          # subscribes to the queue's events
await metrics.refresh()                # or run `metrics.loop` (a Loop) to refresh every few seconds
generate_latest(metrics.registry)      # the exposition text, for /metrics
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from fluffymail.queue.client import JobQueue
from fluffymail.queue.job import Job
from fluffymail.queue.service import Loop

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)


class QueueMetrics:
    """Every queue figure an operator alerts on, in one CollectorRegistry."""

    def __init__(
        self,
        queue: JobQueue,
        registry: CollectorRegistry | None = None,
        refresh_interval: float = 5.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.queue = queue
        self.registry = registry or CollectorRegistry()
        reg = self.registry
        self.completed = Counter(
            "fluffymail_jobs_completed", "Jobs completed", ["queue"], registry=reg
        )
        self.failed = Counter(
            "fluffymail_jobs_failed", "Jobs failed for good", ["queue"], registry=reg
        )
        self.retried = Counter(
            "fluffymail_jobs_retried",
            "Failed attempts that will be retried",
            ["queue"],
            registry=reg,
        )
        self.snoozed = Counter(
            "fluffymail_jobs_snoozed", "Attempts snoozed", ["queue"], registry=reg
        )
        self.duration = Histogram(
            "fluffymail_job_duration_seconds",
            "Handler run time",
            ["queue", "outcome"],
            buckets=BUCKETS,
            registry=reg,
        )
        self.depth = Gauge(
            "fluffymail_queue_jobs", "Jobs waiting or running", ["queue", "state"], registry=reg
        )
        self.oldest = Gauge(
            "fluffymail_queue_oldest_available_seconds",
            "Age of the oldest job that could start now",
            ["queue"],
            registry=reg,
        )
        self.workers = Gauge(
            "fluffymail_queue_workers",
            "Live worker processes serving the queue",
            ["queue"],
            registry=reg,
        )
        self.loop = Loop("queue.metrics", self.refresh, refresh_interval, log or queue.log)
        queue.on("completed", self._completed)
        queue.on("failed", self._failed)
        queue.on("retried", self._retried)
        queue.on("snoozed", self._snoozed)

    def _completed(self, job: Job, duration: float, **_: Any) -> None:
        self.completed.labels(job.name).inc()
        self.duration.labels(job.name, "completed").observe(duration)

    def _failed(self, job: Job, duration: float, **_: Any) -> None:
        self.failed.labels(job.name).inc()
        self.duration.labels(job.name, "failed").observe(duration)

    def _retried(self, job: Job, duration: float, **_: Any) -> None:
        self.retried.labels(job.name).inc()
        self.duration.labels(job.name, "failed").observe(duration)

    def _snoozed(self, job: Job, **_: Any) -> None:
        self.snoozed.labels(job.name).inc()

    async def refresh(self) -> None:
        """Read depth, backlog age and workers from the database into the gauges."""
        for name, row in (await self.queue.get_queue_depth()).items():
            for state in ("available", "deferred", "active"):
                self.depth.labels(name, state).set(row[state])
            self.oldest.labels(name).set(float(row["oldest_seconds"]))
            self.workers.labels(name).set(row["workers"])
