"""The worker's parser process: work runs in another process, and a process that died is
replaced instead of failing every later sync."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from fluffymail.jobs.parser_pool import ParserPool
from tests.helpers import wait_for


def test_parser_pool__runs_work_in_a_child_and_replaces_one_that_died() -> None:
    pool = ParserPool()
    try:
        child = pool.submit(os.getpid).result(timeout=60)
        assert child != os.getpid()
        with pytest.raises(BrokenProcessPool):  # the work in flight fails with its process
            pool.submit(os.kill, child, signal.SIGKILL).result(timeout=60)
        replacement = pool.submit(os.getpid).result(timeout=60)
        assert replacement not in (child, os.getpid())
    finally:
        pool.shutdown()


WORKER = """
import os, sys
from fluffymail.jobs.parser_pool import ParserPool
if __name__ == "__main__":
    pool = ParserPool()
    print(pool.submit(os.getpid).result(timeout=60), flush=True)
    sys.stdin.read()  # until killed
"""


def test_parser_pool__a_child_exits_when_its_worker_was_killed(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    command = [sys.executable, str(script)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as worker:
        assert worker.stdout is not None
        child = int(worker.stdout.readline())
        worker.kill()  # SIGKILL: no shutdown runs in the worker
    asyncio.run(wait_for(lambda: _gone(child), within=30))


async def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
