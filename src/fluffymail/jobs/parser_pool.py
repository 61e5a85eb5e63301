"""The process that parses mail for a worker's syncs: started on first use, again if it dies.

Parsing in a thread shares the worker's interpreter lock with the IMAP reads and the storing
(issue 21: an initial IMAP sync ran at a quarter of a plain fetch); a child process parses
truly in parallel, as `fluffymail import` does. Imports only the standard library.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from typing import Any

__all__ = ["PRELOAD", "ParserPool", "batch_gc"]

PRELOAD = "fluffymail.crm.mail.prepare"  # what the children run (`prepare_all`), and only that

log = logging.getLogger(__name__)


def batch_gc() -> None:
    """Tune the cycle collector for bulk parsing: it allocates millions of short-lived,
    acyclic objects (parsed headers, rows), so the default young-generation threshold (700)
    runs a collection every few messages for nothing. Freeze what start-up allocated and
    collect 70x less often; cycles are still collected."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 50)


def _child_start(worker_pid: int) -> None:
    """A parser child's set-up: `batch_gc`, SIGINT ignored (see `_start_forkserver`), and exit
    once the worker is gone. A worker killed outright (SIGKILL, OOM) cannot stop its children,
    and one left waiting for work kept the forkserver and the resource tracker alive with it."""
    batch_gc()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a fork server started by other code
    threading.Thread(target=_exit_without, args=(worker_pid,), daemon=True).start()


def _start_forkserver() -> None:
    """Start the fork server with SIGINT ignored, so that it and every child it forks ignore
    it from their first instruction. Ctrl-C in a terminal reaches the whole process group: the
    worker (or `fluffymail import`) stops gracefully and shuts its children down, while a child
    that took it died mid-batch with a KeyboardInterrupt traceback, failing its sync; one that
    took it while starting broke the pool, and an import interrupted then hung at exit
    (Python 3.11's pool thread fails on the futures asyncio had cancelled)."""
    if threading.current_thread() is not threading.main_thread():  # signal.signal's rule
        forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited across the exec
    try:
        forkserver.ensure_running()  # spawns it and returns, without waiting for its preload
    finally:
        signal.signal(signal.SIGINT, previous)


def _exit_without(worker_pid: int, every: float = 1.0) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid was reused by another user's process
            os._exit(0)


class ParserPool(Executor):
    """A pool of `processes` parser processes (forkserver: never a fork of a threaded worker),
    started on the first `submit` (or `warm_up`) and replaced when one of them died (the work
    in flight then fails with BrokenProcessPool; the next submission gets a new pool)."""

    def __init__(self, processes: int = 1) -> None:
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            try:
                return self._current().submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                log.warning(
                    "parser process died; starting another", extra={"action": "parser.restart"}
                )
                self._drop()
                return self._current().submit(fn, *args, **kwargs)

    def warm_up(self) -> None:
        """Start the processes now (in the background), so the first sync does not wait."""
        self.submit(int)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _current(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            # the server imports the parser once and each child starts with it loaded: a
            # child importing it on the first batch held up the sync that started the worker
            context.set_forkserver_preload([PRELOAD, __name__])
            _start_forkserver()
            self._pool = ProcessPoolExecutor(
                self._processes,
                mp_context=context,
                initializer=_child_start,
                initargs=(os.getpid(),),
            )
        return self._pool

    def _drop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
