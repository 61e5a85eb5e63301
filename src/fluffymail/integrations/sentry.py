"""Report failed jobs to Sentry when a DSN is configured (the optional `sentry` extra)."""

from __future__ import annotations

from typing import Any

from fluffymail.errors import ConfigError
from fluffymail.queue import Job, JobQueue


def attach(queue: JobQueue, dsn: str, *, environment: str, **init_options: Any) -> None:
    """Initialise sentry-sdk and send every failed attempt, tagged with the job's context."""
    try:
        import sentry_sdk
    except ImportError as exc:
        raise ConfigError(
            "FLUFFYMAIL_SENTRY_DSN is set but sentry-sdk is not installed: install the `sentry` extra"
        ) from exc
    # Only what this module reports: no auto-enabled framework integrations (their Starlette
    # hooks would read every request's form in the process, e.g. an upload's spooled file).
    init_options.setdefault("auto_enabling_integrations", False)
    sentry_sdk.init(dsn=dsn, environment=environment, **init_options)

    def report(job: Job, exception: BaseException | None = None, **_: Any) -> None:
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("queue", job.name)
            scope.set_tag("job_id", str(job.id))
            scope.set_context(
                "job",
                {
                    "id": job.id,
                    "queue": job.name,
                    "attempt": job.attempt,
                    "retry_count": job.retry_count,
                    "retry_limit": job.retry_limit,
                },
            )
            if exception is not None:
                sentry_sdk.capture_exception(exception)

    queue.on("failed", report)
    queue.on("retried", report)
