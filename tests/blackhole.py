"""A TCP proxy on loopback in front of the test PostgreSQL that can black-hole its traffic.

`black_hole()` keeps every connection open and accepts new ones, but forwards no byte in
either direction, nor a close (what a dropped network looks like to both ends: no error, no
answer); `heal()` lets the held bytes and closes through again. `reset()` aborts every
connection open now (both ends see a reset, as after a middlebox or NAT restart). Runs in the test's event loop, or in a thread of
its own (`ProxyThread`) when the clients are other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from psycopg.conninfo import conninfo_to_dict, make_conninfo


class BlackHoleProxy:
    def __init__(self, url: str) -> None:
        params = conninfo_to_dict(url)
        host, port = str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432)
        self._unix = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
        self._target = (host, port)
        self._url = url
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    @property
    def url(self) -> str:
        """`url`, but through the proxy."""
        return make_conninfo(self._url, host="127.0.0.1", port=str(self.port))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def black_hole(self) -> None:
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()

    def reset(self) -> int:
        """Abort every open connection; returns how many were open."""
        writers, self._writers = self._writers, []
        for writer in writers:
            writer.transport.abort()
        return len(writers) // 2

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        await asyncio.sleep(0.05)  # let the transports finish closing
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._flowing.wait()  # a connect during a black hole hangs in the handshake
        try:
            if self._unix is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:  # the server is down (restarting): refuse, as it would
            writer.transport.abort()
            return
        self._writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                await self._flowing.wait()
                dst.write(data)
                await dst.drain()
            await self._flowing.wait()  # a close does not cross a black hole either
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()


class ProxyThread:
    """A BlackHoleProxy served from a thread with its own event loop (for other processes)."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = self._call(self._make(url))

    async def _make(self, url: str) -> BlackHoleProxy:
        proxy = BlackHoleProxy(url)
        await proxy.start()
        return proxy

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    @property
    def url(self) -> str:
        return self.proxy.url

    def black_hole(self) -> None:
        self._loop.call_soon_threadsafe(self.proxy.black_hole)

    def heal(self) -> None:
        self._loop.call_soon_threadsafe(self.proxy.heal)

    def reset(self) -> int:
        return asyncio.run_coroutine_threadsafe(self._reset(), self._loop).result(10)

    async def _reset(self) -> int:
        return self.proxy.reset()

    def close(self) -> None:
        self._call(self.proxy.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
