"""Failed jobs reach Sentry with their queue and job id (captured by an in-memory transport)."""

from __future__ import annotations

from typing import Any

import pytest

from fluffymail.integrations import sentry
from fluffymail.queue import Job, JobQueue
from tests.helpers import settled, wait_for

sentry_sdk = pytest.importorskip("sentry_sdk", reason="the `sentry` extra is not installed")


class MemoryTransport(sentry_sdk.transport.Transport):
    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__()
        self.events = events

    def capture_envelope(self, envelope: Any) -> None:
        if (event := envelope.get_event()) is not None:
            self.events.append(event)


async def test_failed_job__is_reported_with_its_context(queue: JobQueue) -> None:
    events: list[dict[str, Any]] = []
    sentry.attach(
        queue,
        "https://key@sentry.invalid/1",
        environment="test",
        transport=MemoryTransport(events),
        default_integrations=False,
    )
    await queue.create_queue("q", retry_limit=0)

    async def handler(job: Job) -> None:
        raise ConnectionRefusedError("imap.example.com refused")

    job_id = await queue.send("q", {})
    await queue.work("q", handler)
    await wait_for(lambda: settled(queue, "q"))
    await wait_for(lambda: _flushed(events))
    [event] = events
    assert event["tags"]["queue"] == "q" and event["tags"]["job_id"] == str(job_id)
    assert event["exception"]["values"][0]["type"] == "ConnectionRefusedError"
    sentry_sdk.init(auto_enabling_integrations=False)  # detach: later tests must not report


async def _flushed(events: list[dict[str, Any]]) -> bool:
    sentry_sdk.flush(timeout=1)
    return bool(events)
