"""`fluffymail serverless lambda`: AWS Lambda's Runtime API loop for a container image, in the
standard library (no runtime interface client to install): each invocation is a drain run that
ends before the invocation's deadline.

See https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html for the three calls.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

API_VERSION = "2018-06-01"
Handler = Callable[[Any, float], Any]  # (event, seconds until the deadline) -> JSON-able answer


def serve(
    api: str,
    handle: Handler,
    *,
    invocations: int | None = None,
    after: Callable[[Any], None] | None = None,
) -> None:
    """Answer invocations from the Runtime API at `api` (host:port) with `handle`, forever
    (or `invocations` times: tests). `after(answer)` runs once each answer is sent."""
    base = f"http://{api}/{API_VERSION}/runtime/invocation"
    served = 0
    while invocations is None or served < invocations:
        request_id, deadline, event = _next(base)
        try:
            answer = handle(event, deadline - time.time())
        except Exception as exc:
            _post(
                f"{base}/{request_id}/error",
                {"errorType": type(exc).__name__, "errorMessage": str(exc)},
            )
        else:
            _post(f"{base}/{request_id}/response", answer)
            if after is not None:
                after(answer)
        served += 1


def _next(base: str) -> tuple[str, float, Any]:
    """Wait for the next invocation: its id, deadline (epoch seconds) and event."""
    with urllib.request.urlopen(f"{base}/next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        deadline = int(response.headers["Lambda-Runtime-Deadline-Ms"]) / 1000
        body = response.read()
    return request_id, deadline, json.loads(body) if body else None


def _post(url: str, payload: Any) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        response.read()
