"""A local chat-completions emulator (stdlib http.server in a thread) for the real `openai` SDK.

Follows the OpenAI chat-completions schemas: POST /v1/chat/completions with model, messages and an
optional `response_format` of type json_schema; answers `choices[0].message.content` and `usage`.
Replies are scripted (good JSON, 429 with Retry-After, 500, malformed content, a hallucinated
citation, a slow answer); every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ID = re.compile(r"^\[([^\]]+)\]", re.M)
_ROLES = {"system", "user", "assistant", "developer"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One scripted answer: an HTTP error (`status` != 200) or a completion with `content`.

    `content` may be a callable of the request body (to cite ids that are really in it).
    """

    status: int = 200
    content: str | Callable[[dict[str, Any]], str] | None = None
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    delay: float = 0.0


def input_ids(body: dict[str, Any]) -> list[str]:
    """The message ids in the first user message (the prompt FluffyMail built)."""
    first_user = next(m for m in body["messages"] if m["role"] == "user")
    return _ID.findall(first_user["content"])


def good_summary(body: dict[str, Any]) -> str:
    ids = input_ids(body)
    return json.dumps(
        {
            "who": "A supplier the user buys turbines from.",
            "discussed": "Delivery dates and the spring contract.",
            "open_loops": ["They asked for the signed contract."],
            "next_step": "Send the signed contract.",
            "cited_message_ids": ids[:2],
        }
    )


def good() -> Reply:
    return Reply(content=good_summary)


def hallucinated() -> Reply:
    def content(body: dict[str, Any]) -> str:
        data = json.loads(good_summary(body))
        data["cited_message_ids"] = [*data["cited_message_ids"], "<made-up@example.com>"]
        return json.dumps(data)

    return Reply(content=content)


def malformed() -> Reply:
    return Reply(content='{"who": "A supplier", "discussed": ')


def rate_limited(retry_after: str | None = "7") -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    error = {
        "message": "Rate limit reached",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    return Reply(status=429, error=error, headers=headers)


def server_error(status: int = 500) -> Reply:
    error = {
        "message": "The server had an error",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    return Reply(status=status, error=error)


def validate(body: Any) -> str | None:
    """Why a request breaks the chat-completions schema, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "model is required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    for m in messages:
        if (
            not isinstance(m, dict)
            or m.get("role") not in _ROLES
            or not isinstance(m.get("content"), str)
        ):
            return "each message needs a role and string content"
    fmt = body.get("response_format")
    if fmt is not None:
        schema = fmt.get("json_schema") if isinstance(fmt, dict) else None
        if fmt.get("type") != "json_schema" or not isinstance(schema, dict):
            return "response_format must be of type json_schema"
        if not isinstance(schema.get("name"), str) or not isinstance(schema.get("schema"), dict):
            return "json_schema needs a name and a schema"
        if schema.get("strict") and set(schema["schema"].get("required", [])) != set(
            schema["schema"].get("properties", {})
        ):
            return "strict schemas must require every property"
    return None


def completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    content = reply.content(body) if callable(reply.content) else reply.content
    prompt_chars = sum(len(m["content"]) for m in body["messages"])
    prompt_tokens, completion_tokens = prompt_chars // 4 + 1, len(content or "") // 4 + 1
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class ChatEmulator:
    """Serves scripted replies in order, then `good()`; `requests` holds (headers, body) pairs."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self._server: ThreadingHTTPServer | None = None

    def push(self, *replies: Reply) -> None:
        self.script.extend(replies)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ChatEmulator:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if self.path != "/v1/chat/completions":
                    return self._send(
                        404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                    )
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    return self._send(
                        401, {"error": {"message": "no API key", "type": "invalid_request_error"}}
                    )
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                except json.JSONDecodeError:
                    body = None
                if problem := validate(body):
                    return self._send(
                        400, {"error": {"message": problem, "type": "invalid_request_error"}}
                    )
                emulator.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                reply = emulator.script.popleft() if emulator.script else good()
                time.sleep(reply.delay)
                if reply.status != 200:
                    return self._send(reply.status, {"error": reply.error}, reply.headers)
                return self._send(200, completion(body, reply), reply.headers)

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler
