"""Worker-process entry points (multiprocessing spawn targets) and the parent-side process plumbing."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

from peers import load_adapter
from peers.common import BenchError, Recorder

IDLE_BEFORE_READY_S = 1.0  # a latency worker sits idle this long before the first job is sent


def _report_errors(conn: Connection, body: Any) -> None:
    try:
        asyncio.run(body)
    except BaseException:  # everything goes back to the parent
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


async def _drain(system: str, dsn: str, concurrency: int, go: Event, conn: Connection) -> None:
    recorder = Recorder()
    worker = await load_adapter(system).open_worker(dsn, concurrency, recorder)
    try:
        conn.send(("ready", None))
        await asyncio.to_thread(go.wait)
        await worker.run_until_drained()
        end = time.time()
    finally:
        await worker.aclose()
    conn.send(("done", {"end": end, "handled": recorder.count, "seen": sorted(recorder.seen)}))


async def _serve_latency(
    system: str, dsn: str, concurrency: int, k: int, wait_s: float, conn: Connection
) -> None:
    recorder = Recorder(target=k)
    worker = await load_adapter(system).open_worker(dsn, concurrency, recorder)
    try:
        await worker.start()
        await asyncio.sleep(IDLE_BEFORE_READY_S)
        conn.send(("ready", None))
        await asyncio.wait_for(recorder.done.wait(), timeout=wait_s)
        await worker.stop()
    finally:
        await worker.aclose()
    conn.send(
        (
            "done",
            {
                "handled": recorder.count,
                "seen": sorted(recorder.seen),
                "latencies": recorder.latencies,
            },
        )
    )


def drain_main(system: str, dsn: str, concurrency: int, go: Event, conn: Connection) -> None:
    _report_errors(conn, _drain(system, dsn, concurrency, go, conn))


def latency_main(
    system: str, dsn: str, concurrency: int, k: int, wait_s: float, conn: Connection
) -> None:
    _report_errors(conn, _serve_latency(system, dsn, concurrency, k, wait_s, conn))


@dataclass
class Child:
    process: mp.process.BaseProcess
    conn: Connection
    pending: tuple[str, Any] | None = None  # a message read early by raise_if_failed

    def expect(self, kind: str, timeout: float) -> Any:
        """Wait for the child's next message; raise BenchError on error, timeout or early exit."""
        if not self.conn.poll(timeout):
            raise BenchError(
                f"worker process {self.process.pid}: no {kind!r} within {timeout:.0f}s"
            )
        try:
            got, body = self.conn.recv()
        except EOFError as exc:
            raise BenchError(
                f"worker process {self.process.pid} exited before sending {kind!r}"
            ) from exc
        if got == "error":
            raise BenchError(f"worker process {self.process.pid} failed:\n{body}")
        if got != kind:
            raise BenchError(f"worker process {self.process.pid}: expected {kind!r}, got {got!r}")
        return body

    def raise_if_failed(self) -> None:
        """Non-blocking: raise BenchError if the child already reported an error or died."""
        if self.conn.poll(0):
            got, body = self.conn.recv()
            if got == "error":
                raise BenchError(f"worker process {self.process.pid} failed:\n{body}")
            self.pending = (got, body)
        elif not self.process.is_alive():
            raise BenchError(
                f"worker process {self.process.pid} exited early ({self.process.exitcode})"
            )

    def reap(self, *, force: bool = False) -> None:
        """Wait for the child to exit; with `force` (a failed scenario) terminate it right away."""
        self.process.join(timeout=0.5 if force else 10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


def spawn(target: Any, *args: Any) -> Child:
    ctx = mp.get_context("spawn")
    parent_end, child_end = ctx.Pipe(duplex=False)
    process = ctx.Process(target=target, args=(*args, child_end), daemon=True)
    process.start()
    child_end.close()
    return Child(process=process, conn=parent_end)
