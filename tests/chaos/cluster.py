"""A scratch PostgreSQL cluster (initdb + pg_ctl on a temporary data directory) that the chaos
suite may restart and kill; never the shared server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SETTINGS = (
    "listen_addresses=127.0.0.1",
    "fsync=off",  # safe here: the suite restarts PostgreSQL, never the machine
    "full_page_writes=off",
    "max_connections=300",
    "shared_buffers=64MB",
)


def pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    candidates = [str(Path(found).parent)] if found else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """initdb'd on construction; `start`, `restart(mode)` and `stop` wrap pg_ctl."""

    def __init__(self, bin_dir: Path, settings: tuple[str, ...] = ()) -> None:
        self.bin, self.settings = bin_dir, SETTINGS + settings
        self.root = Path(tempfile.mkdtemp(prefix="fluffymail-chaos-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--no-sync")  # fmt: skip

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        self._ctl("start", "-l", str(self.log))

    def restart(self, mode: str) -> None:
        """`pg_ctl restart -m fast|immediate`: every session is cut."""
        self._ctl("restart", "-m", mode, "-l", str(self.log))

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} " + " ".join(f"-c {s}" for s in self.settings)
        self._pg("pg_ctl", action, "-D", str(self.data), "-w", "-t", "120", "-o", options, *args)

    def _pg(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)
