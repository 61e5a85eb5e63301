"""Root's embedded PostgreSQL starts take turns (`db.embedded.one_start_at_a_time`)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
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


def test_forget_dead_users__a_process_killed_outright_is_taken_off_the_servers_list(
    tmp_path: Path,
) -> None:
    from fluffymail.db.embedded import HANDLES, forget_dead_users

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / HANDLES).write_text(json.dumps([int(dead.stdout), os.getpid()]))

    forget_dead_users(pgdata)  # SIGKILL or OOM: no atexit took it off, so no one stopped it

    assert json.loads((pgdata / HANDLES).read_text()) == [os.getpid()]
