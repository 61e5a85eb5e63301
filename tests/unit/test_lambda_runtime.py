"""`fluffymail serverless lambda`'s Runtime API loop against a stand-in for Lambda's API."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from fluffymail.serverless import lambda_runtime


class FakeRuntime(http.server.BaseHTTPRequestHandler):
    """Hands out queued invocations and records the answers posted back."""

    events: ClassVar[list[tuple[str, Any]]] = []
    answers: ClassVar[dict[str, tuple[str, Any]]] = {}

    def do_GET(self) -> None:
        assert self.path == "/2018-06-01/runtime/invocation/next"
        request_id, event = self.events.pop(0)
        body = json.dumps(event).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 30) * 1000)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        *_, request_id, kind = self.path.split("/")
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.answers[request_id] = (kind, payload)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def runtime() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRuntime)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_serve__answers_each_invocation_or_reports_its_error(runtime: str) -> None:
    FakeRuntime.events[:] = [("a", {"max_seconds": 5}), ("b", None)]
    seen: list[tuple[Any, float]] = []

    def handle(event: Any, seconds: float) -> Any:
        seen.append((event, seconds))
        if event is None:
            raise TimeoutError("no time left")
        return {"done": {}}

    sent: list[Any] = []
    lambda_runtime.serve(runtime, handle, invocations=2, after=sent.append)

    assert [event for event, _ in seen] == [{"max_seconds": 5}, None]
    assert 20 < seen[0][1] <= 30, "the handler is told the time to the deadline"
    assert FakeRuntime.answers["a"] == ("response", {"done": {}})
    assert sent == [{"done": {}}], "`after` sees each answer once it is sent"
    assert FakeRuntime.answers["b"] == (
        "error",
        {"errorType": "TimeoutError", "errorMessage": "no time left"},
    )
