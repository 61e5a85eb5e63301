"""PgBouncer in transaction mode for tests: Debian's `pgbouncer` started on a free loopback port
in front of the server under test, with its own configuration in a temporary folder."""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

BINARY_PATHS = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
PR_SET_PDEATHSIG = 1
ENV_FLAG = "FLUFFYMAIL_TEST_PGBOUNCER"  # "1": the db_url fixtures go through PgBouncer


def bounced() -> bool:
    """This test run reaches its databases through PgBouncer (FLUFFYMAIL_TEST_PGBOUNCER=1)."""
    return os.environ.get(ENV_FLAG) == "1"


def over_tcp(server_url: str) -> bool:
    """The server is reached over TCP (the embedded one listens on a socket PgBouncer, running
    as another user, may not be allowed to open)."""
    host = conninfo_to_dict(server_url).get("host") or ""
    return bool(host) and not str(host).startswith("/")


def binary() -> str | None:
    """The pgbouncer executable, or None when it is not installed."""
    found = shutil.which("pgbouncer")
    return found or next((p for p in BINARY_PATHS if os.access(p, os.X_OK)), None)


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user (postgres or nobody) to run pgbouncer as")


def _die_with_parent() -> None:
    """In the child, after it changed user: SIGTERM it when the test process dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(server_url: str, port: int, root: Path) -> str:
    server = conninfo_to_dict(server_url)
    target = " ".join(
        f"{key}={server[key]}" for key in ("host", "port", "user", "password") if server.get(key)
    )
    user = server.get("user") or "postgres"
    (root / "userlist.txt").write_text(f'"{user}" ""\n')
    return f"""[databases]
* = {target}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 8
max_db_connections = 40
server_idle_timeout = 10
server_lifetime = 600
ignore_startup_parameters = extra_float_digits
admin_users = {user}
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


@contextmanager
def running(server_url: str) -> Iterator[str]:
    """Start PgBouncer in front of `server_url`; yield its URL (same user, database `test`).

    Raises RuntimeError when it does not come up (its log is in the message).
    """
    exe = binary()
    assert exe is not None, "pgbouncer is not installed"
    root = Path(tempfile.mkdtemp(prefix="fm-pgbouncer-"))
    os.chmod(root, 0o755)  # pgbouncer runs as `postgres` when the tests run as root
    port = _free_port()
    (root / "pgbouncer.ini").write_text(_config(server_url, port, root))
    command = [exe, "-q", str(root / "pgbouncer.ini")]
    user = None
    if os.geteuid() == 0:  # it refuses to run as root
        user = _unprivileged_user()
        shutil.chown(root, user)
    with (root / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            user=user,
            group=user and pwd.getpwnam(user).pw_gid,
            preexec_fn=_die_with_parent,  # a killed test run leaves no PgBouncer behind
        )
    url = make_conninfo(server_url, host="127.0.0.1", port=str(port))
    try:
        _wait_until_up(url, process, root)
        yield url
    finally:
        process.send_signal(signal.SIGINT)  # immediate shutdown
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], root: Path) -> None:
    """Wait for PgBouncer to answer; RuntimeError with its log when it exits or times out."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with psycopg.connect(url, prepare_threshold=None, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            time.sleep(0.1)
    logs = [root / "stderr.txt", root / "pgbouncer.log"]
    text = " ".join(path.read_text(errors="replace")[-2000:] for path in logs if path.exists())
    raise RuntimeError(f"pgbouncer did not start: {text}")


def through(bouncer_url: str, db_url: str) -> str:
    """`db_url`'s database, reached through the PgBouncer at `bouncer_url`."""
    bouncer = conninfo_to_dict(bouncer_url)
    return make_conninfo(db_url, host=bouncer["host"], port=bouncer["port"])
