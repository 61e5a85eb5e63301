"""`fluffymail import`'s parser processes share nothing with the import and end with it: a
killed import must not leave a process holding its database sessions (and their locks)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fluffymail.cli import importer
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")


def test_import_parser__holds_none_of_the_imports_file_descriptors() -> None:
    ours, theirs = socket.socketpair()  # stands for the import's database connections
    # a number no process starts with, close-on-exec as psycopg's sockets are
    fd = fcntl.fcntl(ours.fileno(), fcntl.F_DUPFD_CLOEXEC, 900)
    try:
        with importer._parser(1) as parser:
            assert parser is not None
            child = parser.submit(os.getpid).result(timeout=60)
            held = parser.submit(os.path.exists, f"/proc/self/fd/{fd}")
            assert child != os.getpid()
            assert held.result(timeout=60) is False
    finally:
        os.close(fd)
        ours.close()
        theirs.close()


def test_import_parser__ctrl_c_is_the_imports_to_handle_not_the_childs() -> None:
    with importer._parser(1) as parser:
        assert parser is not None
        child = parser.submit(os.getpid).result(timeout=60)
        os.kill(child, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group

        # the same child goes on (it used to die with a KeyboardInterrupt mid-batch)
        assert parser.submit(os.getpid).result(timeout=60) == child


BIRTH = """
import multiprocessing, signal
from fluffymail.cli import importer

def report(out):
    out.put(str(signal.getsignal(signal.SIGINT)))

if __name__ == "__main__":
    with importer._parser(1):  # starts the fork server
        context = multiprocessing.get_context("forkserver")
        out = context.Queue()
        child = context.Process(target=report, args=(out,))  # no initializer
        child.start()
        print(out.get(timeout=60), signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        child.join()
"""


def test_import_parser__children_ignore_ctrl_c_from_birth(tmp_path: Path) -> None:
    script = tmp_path / "birth.py"
    script.write_text(BIRTH)

    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )

    # a child that took a Ctrl-C while starting broke the pool (and hung the import's exit);
    # the import itself still handles Ctrl-C
    assert done.stdout.split() == [str(int(signal.SIG_IGN)), "True"]


IMPORT = """
import os, sys
from fluffymail.cli import importer
if __name__ == "__main__":
    with importer._parser(1) as parser:
        print(parser.submit(os.getpid).result(timeout=60), flush=True)
        sys.stdin.read()  # until killed
"""


def test_import_parser__a_child_exits_when_the_import_was_killed(tmp_path: Path) -> None:
    script = tmp_path / "import.py"
    script.write_text(IMPORT)
    with subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as running:
        assert running.stdout is not None
        child = int(running.stdout.readline())
        running.kill()  # SIGKILL, as SIGTERM would: no shutdown runs in the import
    asyncio.run(wait_for(lambda: _gone(child), within=30))


async def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
