"""A counting TCP proxy in front of PostgreSQL: client round trips and statements, per run.

A round trip is counted each time a client sends after the server last spoke on that connection
(or first): the client then waits for an answer, whatever the protocol (simple query, extended
query, pipelined batches). Statements are the client's Query ('Q') and Execute ('E') messages.
Clients must connect with sslmode=disable so that the stream can be read."""

from __future__ import annotations

import asyncio
import os
import traceback
from multiprocessing.connection import Connection
from typing import Any

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
TURNS, STATEMENTS, CONNECTIONS = 0, 1, 2
# Set to a file path to append every Query and Parse text (to see what a system sends).
LOG_ENV = "WFBENCH_PROXY_LOG"


class ClientStream:
    """Parses the frontend side of one connection, counting Q and E messages."""

    def __init__(self, counters: Any) -> None:
        self.counters = counters
        self.buf = bytearray()
        self.started = False
        path = os.environ.get(LOG_ENV)
        self.log = open(path, "a") if path else None

    def feed(self, data: bytes) -> None:
        self.buf += data
        while True:
            if not self.started:
                if len(self.buf) < 8:
                    return
                length = int.from_bytes(self.buf[0:4], "big")
                if len(self.buf) < length:
                    return
                code = int.from_bytes(self.buf[4:8], "big")
                del self.buf[:length]
                self.started = code not in (SSL_REQUEST, GSSENC_REQUEST)
                continue
            if len(self.buf) < 5:
                return
            length = int.from_bytes(self.buf[1:5], "big")
            if len(self.buf) < 1 + length:
                return
            if self.buf[0] in (ord("Q"), ord("E")):
                self.counters[STATEMENTS] += 1
            if self.log is not None and self.buf[0] in (ord("Q"), ord("P")):
                body = bytes(self.buf[5 : 1 + length])
                if self.buf[0] == ord("P"):  # statement name, then the query text
                    body = body.split(b"\0", 1)[1]
                text = body.split(b"\0", 1)[0].decode(errors="replace")
                self.log.write(f"{chr(self.buf[0])} {' '.join(text.split())[:200]}\n")
                self.log.flush()
            del self.buf[: 1 + length]


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, on_data: Any) -> None:
    try:
        while data := await reader.read(65536):
            on_data(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _serve(listen_port: int, host: str, port: int, counters: Any, conn: Connection) -> None:
    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        s_reader, s_writer = await asyncio.open_connection(host, port)
        counters[CONNECTIONS] += 1
        stream = ClientStream(counters)
        last = ["s"]

        def from_client(data: bytes) -> None:
            if last[0] != "c":
                counters[TURNS] += 1
                last[0] = "c"
            stream.feed(data)

        def from_server(data: bytes) -> None:
            last[0] = "s"

        await asyncio.gather(
            _pump(c_reader, s_writer, from_client), _pump(s_reader, c_writer, from_server)
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    conn.send(("ready", server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


def proxy_main(host: str, port: int, counters: Any, conn: Connection) -> None:
    """Listen on a free local port (sent back as ("ready", port)) and forward to host:port."""
    try:
        asyncio.run(_serve(0, host, port, counters, conn))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
