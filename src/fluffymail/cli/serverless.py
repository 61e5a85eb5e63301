"""`fluffymail serverless http|lambda`: drain runs served to a URL scheduler or AWS Lambda."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Annotated

import typer

from fluffymail.cli.common import fail, require_secret_key, settings
from fluffymail.errors import ConfigError

app = typer.Typer(
    help="Drain runs on demand: behind a URL, or as an AWS Lambda function.", no_args_is_help=True
)


@app.command()
def http(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "0.0.0.0",
    port: Annotated[
        int, typer.Option(min=1, max=65535, envvar="PORT", help="Port (default: $PORT, 8080)")
    ] = 8080,
    jobs: Annotated[
        str, typer.Option(help="module:function building the job registry")
    ] = "fluffymail.jobs:build_registry",
) -> None:
    """Serve POST /drain (needs `Authorization: Bearer $FLUFFYMAIL_DRAIN_SECRET`) and /healthz.

    Each authorised POST is one drain run (at most ?max_seconds=, default
    FLUFFYMAIL_DRAIN_SECONDS): 200 when the queues are empty, 503 with Retry-After: 0 when jobs
    are due that the budget did not reach, 401 without the secret, 409 while a run is going on.
    """
    import uvicorn

    from fluffymail.cli.worker import exit_now
    from fluffymail.serverless.http import create_app

    config = settings()
    require_secret_key(config)

    def exit_soon() -> None:  # after the answer is sent
        asyncio.get_running_loop().call_later(0.5, exit_now, logging.getLogger("fluffymail.worker"))

    try:
        application = create_app(config, jobs=jobs, on_abandoned=exit_soon)
    except ConfigError as exc:
        fail(exc)
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False)


@app.command("lambda")
def lambda_() -> None:
    """Run as an AWS Lambda container image: each invocation is one drain run that ends before
    the invocation's deadline (or event {"max_seconds": N}); the answer is its report."""
    from fluffymail import serverless
    from fluffymail.cli.worker import exit_now
    from fluffymail.serverless import lambda_runtime

    config = settings()
    require_secret_key(config)
    api = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not api:
        fail(ConfigError("AWS_LAMBDA_RUNTIME_API is not set: this command runs inside AWS Lambda"))

    def handle(event: object, seconds: float) -> object:
        asked = event.get("max_seconds") if isinstance(event, dict) else None
        budget = min(float(asked or config.drain_seconds), seconds - serverless.LAMBDA_MARGIN)
        if budget <= 0:
            raise TimeoutError("no time left in this invocation for a drain run")
        return serverless.drain(budget, settings=config).as_dict()

    def after(answer: object) -> None:
        if isinstance(answer, dict) and answer.get("clean") is False:
            # handlers ignoring cancellation still hold this process: let Lambda start afresh
            exit_now(logging.getLogger("fluffymail.worker"))

    lambda_runtime.serve(api, handle, after=after)
