"""Shared by the IMAP benchmarks: a Dovecot on a loopback port (the tests' configuration) whose
Maildirs hold the real-mail corpus, written straight to disk (no APPEND round trips).

Not a benchmark itself: `imap_bench.py` and `imap_stall_bench.py` import it (scripts run from
`bench/`, so it is on their path).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import corpus  # noqa: E402
from fluffymail.integrations.mail.files import iter_source  # noqa: E402
from tests.integration.imap import conftest as imap_fixtures  # noqa: E402

USER = imap_fixtures.USERS[0]
PASSWORD = imap_fixtures.PASSWORD
# folder on the server -> corpus parts it holds (Maildir++ on disk: INBOX is the root)
FOLDERS = {
    "INBOX": ("enron/mbox", "enron/maildir"),
    "Lists": ("spamassassin/easy_ham", "spamassassin/spam"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    host: str
    port: int
    root: Path
    pid: int
    messages: dict[str, int]  # folder -> messages written

    @property
    def total(self) -> int:
        return sum(self.messages.values())

    def family(self) -> list[int]:
        return family(self.pid)

    def freeze(self) -> list[int]:
        """SIGSTOP every Dovecot process (sockets stay open, nothing answers); their pids."""
        pids = self.family()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    @staticmethod
    def thaw(pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def family(pid: int) -> list[int]:
    """`pid` and every process descended from it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = [pid]
    for current in found:
        found += [child for child, parent in parents.items() if parent == current]
    return found


def write_maildir(root: Path, limit: int | None = None) -> dict[str, int]:
    """Copy the corpus into USER's Maildir++ (one file per message); messages per folder."""
    base = corpus.require("enron")
    home = root / "mail" / USER
    ident = imap_fixtures._identity()
    counts: dict[str, int] = {}
    n = 0
    for folder, parts in FOLDERS.items():
        where = home if folder == "INBOX" else home / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (where / sub).mkdir(parents=True, exist_ok=True)
        counts[folder] = 0
        for part in parts:
            for mail in iter_source(base / part):
                if limit is not None and n >= limit:
                    break
                n += 1
                name = f"{1_700_000_000 + n}.M{n}P1.bench,S={len(mail.raw)}:2,S"
                (where / "cur" / name).write_bytes(mail.raw)
                counts[folder] += 1
    if os.geteuid() == 0:  # Dovecot reads the mail as the `dovecot` user
        uid, gid = int(ident["uid"]), int(ident["gid"])  # type: ignore[call-overload]
        for path in [home, *home.rglob("*")]:
            os.chown(path, uid, gid)
    return counts


@contextlib.contextmanager
def running(limit: int | None = None) -> Iterator[Server]:
    """A Dovecot serving the corpus to USER on a free loopback port; stopped afterwards."""
    binary = imap_fixtures._binary()
    if binary is None:
        sys.exit("dovecot-imapd is not installed: apt-get install dovecot-imapd")
    with tempfile.TemporaryDirectory(prefix="fm-imap-bench-") as tmp:
        root = Path(tmp)
        port = imap_fixtures._free_port()
        config = imap_fixtures._write_config(root, port, binary)
        counts = write_maildir(root, limit)
        proc = subprocess.Popen(
            [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_for_port(port)
            server = Server(host="127.0.0.1", port=port, root=root, pid=proc.pid, messages=counts)
            _wait_for_login(server)
            yield server
        finally:
            Server.thaw(family(proc.pid))  # a frozen server would not stop
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit("dovecot did not open its port within 15 s")


def _wait_for_login(server: Server) -> None:
    fixture = imap_fixtures.Dovecot(host=server.host, port=server.port, root=server.root)
    fixture.client(USER).logout()
