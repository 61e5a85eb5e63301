"""Root's embedded PostgreSQL starts take turns (`db.embedded.one_start_at_a_time`)."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from fluffymail.db.embedded import one_start_at_a_time

HOLD = 0.3  # seconds each process keeps the lock


def _start(lock_dir: Path, barrier: Any, spans: Any) -> None:
    barrier.wait()  # both ask at once
    with one_start_at_a_time(lock_dir):
        began = time.monotonic()
        time.sleep(HOLD)
        spans.put((began, time.monotonic()))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="only root's starts race")
def test_two_processes_starting_at_once__one_waits_for_the_other(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, spans = context.Barrier(2), context.Queue()
    processes = [context.Process(target=_start, args=(tmp_path, barrier, spans)) for _ in "ab"]
    for process in processes:
        process.start()
    first, second = sorted(spans.get(timeout=30) for _ in processes)
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert second[0] >= first[1]  # the second began only once the first was done
