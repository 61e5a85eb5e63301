"""Worker-process entry point (a multiprocessing spawn target): one system's worker and its tally."""

from __future__ import annotations

import os
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from wfpeers import load_side
from wfpeers.common import Tally, WorkerConfig


def _exit_with_parent() -> None:
    """An orphaned worker would go on taking work from the next run's database of the same name."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def serve_main(
    system: str,
    dsn: str,
    worker: WorkerConfig,
    counters: tuple[Any, Any],
    go: Any,
    stop: Any,
    conn: Connection,
) -> None:
    """Send ("ready", (pid, when this process started)) once serving, then ("done", tally
    report) after `stop`."""
    started_at = time.time()
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    try:
        tally = Tally(counter=counters[0], waiters=counters[1])
        load_side(system).serve(
            dsn, worker, tally, go, stop, lambda: conn.send(("ready", (os.getpid(), started_at)))
        )
        conn.send(("done", tally.report()))
    except BaseException:  # everything goes back to the parent
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()
