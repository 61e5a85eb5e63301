"""The worker's parser process: work runs in another process, and a process that died is
replaced instead of failing every later sync."""

from __future__ import annotations

import os
import signal
from concurrent.futures.process import BrokenProcessPool

import pytest

from fluffymail.jobs.parser_pool import ParserPool


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
