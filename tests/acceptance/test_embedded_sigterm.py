"""SIGTERM to a command on the embedded PostgreSQL (no DATABASE_URL) stops it as Ctrl-C does:
the import exits 143 keeping what it committed, the web app stops gracefully, and each leaves
the server stopped, off pgserver's list of its users, for the next command to start again."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
OWNER = "owner@example.com"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """A data dir of its own, outside pytest's (pgserver's system user must reach it as root),
    whose server is stopped and files removed at the end whatever happened."""
    root = Path(tempfile.mkdtemp(prefix="fluffymail-sigterm-"))
    yield root / "data"
    stop_server(root / "data" / "pgdata")
    shutil.rmtree(root, ignore_errors=True)


def stop_server(pgdata: Path) -> None:
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        server = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        server.terminate()
        server.wait(10)


def write_mailbox(path: Path, n: int) -> Path:
    lines = []
    for i in range(n):
        sender = f"person{i % 150}@firm{i % 40}.example"
        lines.append(
            f"From {sender} Mon Jan  1 00:00:00 2024\nFrom: Person {i % 150} <{sender}>\n"
            f"To: {OWNER}\nSubject: Plan {i // 7}\nMessage-ID: <m{i}@example.com>\n"
            f"Date: Mon, {i % 28 + 1:02d} Jan 2024 {i % 24:02d}:{i % 60:02d}:00 +0000\n\n"
            f"Note {i} about the plan.\n\n"
        )
    path.write_text("".join(lines))
    return path


def command(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    elsewhere = {"DATABASE_URL", "FLUFFYMAIL_DATABASE_URL"}  # unset: the embedded server
    env = {k: v for k, v in os.environ.items() if k not in elsewhere}
    env |= {"FLUFFYMAIL_DATA_DIR": str(data_dir), "FLUFFYMAIL_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "fluffymail", *args],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def read_until(proc: subprocess.Popen[str], text: str) -> str:
    """stdout up to the line holding `text` (the process must write it)."""
    assert proc.stdout is not None
    seen = ""
    while text not in seen:
        line = proc.stdout.readline()
        assert line, f"{text!r} never came; stdout: {seen[-2000:]}"
        seen += line
    return seen


def users_of_server(data_dir: Path) -> list[int]:
    """pgserver's list of the processes using the server (the last to leave stops it)."""
    handles = data_dir / "pgdata" / ".handle_pids.json"
    return json.loads(handles.read_text()) if handles.exists() else []


def server_running(data_dir: Path) -> bool:
    return (data_dir / "pgdata" / "postmaster.pid").exists()  # pg_ctl stop removes it


def test_import__sigterm_exits_143_keeps_its_batches_and_stops_the_embedded_server(
    data_dir: Path, tmp_path: Path
) -> None:
    mbox = write_mailbox(tmp_path / "big.mbox", 20_000)
    importing = command(data_dir, "import", str(mbox), "--user", OWNER)
    said = read_until(importing, "created user")  # the server is up, the read starts
    time.sleep(1.0)
    importing.send_signal(signal.SIGTERM)
    out, err = importing.communicate(timeout=60)

    assert importing.returncode == 143, (said + out, err[-3000:])  # was -15: killed outright
    assert "interrupted after" in out and "run the same command again to continue" in out
    assert users_of_server(data_dir) == []  # was [its pid], for good
    assert not server_running(data_dir)  # was left running: no one was ever the last user

    again = command(data_dir, "import", str(mbox), "--user", OWNER)
    out, err = again.communicate(timeout=240)

    assert again.returncode == 0, err[-3000:]
    assert "created user" not in out and "20,000 messages read" not in out  # it went on
    assert users_of_server(data_dir) == [] and not server_running(data_dir)


def test_web__sigterm_stops_it_gracefully_and_stops_the_embedded_server(data_dir: Path) -> None:
    serving = command(data_dir, "web", "--port", str(free_port()))
    while serving.pid not in users_of_server(data_dir):  # its app has started the server
        assert serving.poll() is None, serving.communicate()  # (pytest-timeout bounds the wait)
        time.sleep(0.2)
    serving.send_signal(signal.SIGTERM)
    _, err = serving.communicate(timeout=60)

    assert serving.returncode == 0, err[-3000:]  # as Ctrl-C: uvicorn's graceful stop; was -15
    assert users_of_server(data_dir) == []  # was [its pid]
    assert not server_running(data_dir)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
