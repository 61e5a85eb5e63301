"""A local webhook receiver for tests and benches: a bare asyncio HTTP server that records each
request (headers, body) and answers a chosen status; started and stopped at will (stopped, its
port refuses connections, as a receiver that is down does)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


def verify(secret: str, received: Received) -> bool:
    """The Standard Webhooks check, written from the spec: HMAC-SHA256 with the base64 key
    after `whsec_`, over "{id}.{timestamp}.{body}", compared with each `v1,` signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    h = received.headers
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + received.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [s.split(",", 1)[1] for s in h["webhook-signature"].split() if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, g) for g in given)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    status: int = 204
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.status
            if 200 <= status < 300:
                self.received.append(Received(headers=headers, body=body))
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
