"""A real Dovecot IMAP server per test module, configured in a tmp dir on a loopback port.

Skips (with the install command) when the `dovecot` binary is absent; never passes silently.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from fluffymail.integrations import net
from fluffymail.integrations.mail.imap import IMAP_PORTS, ImapConfig
from tests.corpus import CORPUS, require
from tests.integration.imap.tls_server import tls_server

__all__ = ["tls_server"]  # a fixture: a TLS-only IMAP stand-in (tls_server.py)

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "correct-horse"
USERS = [f"user{i}" for i in range(1, 21)]

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = fluffymail-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
{plaintext}
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Papierkorb {{
    special_use = \\Trash
  }}
}}
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dovecot:
    """A running test server: where it listens and how to reach its log."""

    host: str
    port: int
    root: Path
    pid: int = 0  # the master process (its children serve the connections)

    def config(self, username: str, **overrides: object) -> ImapConfig:
        options: dict[str, object] = {"password": PASSWORD, **overrides}
        return ImapConfig(host=self.host, port=self.port, ssl=False, username=username, **options)  # type: ignore[arg-type]

    @property
    def policy(self) -> net.OutboundPolicy:
        """Outbound connections may reach this loopback server, as an administrator's
        FLUFFYMAIL_OUTBOUND_ALLOW and FLUFFYMAIL_OUTBOUND_PORTS would let them."""
        return net.OutboundPolicy(
            ports=IMAP_PORTS | {self.port}, networks=(ipaddress.ip_network(self.host),)
        )

    @property
    def settings(self) -> dict[str, str]:
        """The same allowance as settings (for the web app and the worker)."""
        return {"outbound_allow": self.host, "outbound_ports": str(self.port)}

    def client(self, username: str) -> IMAPClient:
        """A signed-in client; retried while Dovecot's auth process is still starting up
        (it answers `[UNAVAILABLE] Temporary authentication failure` on a loaded machine)."""
        deadline = time.monotonic() + 15
        while True:
            client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
            try:
                client.login(username, PASSWORD)
                return client
            except LoginError as exc:
                client.shutdown()
                if "UNAVAILABLE" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _binary() -> str | None:
    """`dovecot` on PATH, or in the sbin directories non-root PATHs often lack."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def _version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    return tuple(int(p) for p in out.stdout.split()[0].split(".")[:2])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _identity() -> dict[str, object]:
    """Root runs Dovecot the Debian way (mail as `dovecot`); others run it as themselves."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        login = "dovenull"
    else:
        mail = pwd.getpwuid(os.geteuid())
        login = mail.pw_name
    return {
        "uid": mail.pw_uid,
        "gid": mail.pw_gid,
        "login_user": login,
        "internal_user": mail.pw_name,
        "internal_group": mail.pw_name if os.geteuid() != 0 else "dovecot",
    }


def _write_config(root: Path, port: int, binary: str) -> Path:
    ident = _identity()
    plaintext = (
        "auth_allow_cleartext = yes"
        if _version(binary) >= (2, 4)
        else "disable_plaintext_auth = no"
    )
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    uid, gid = int(ident["uid"]), int(ident["gid"])  # type: ignore[call-overload]
    lines = [f"{u}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/mail/{u}::" for u in USERS]
    (root / "passwd").write_text("\n".join(lines) + "\n")
    if os.geteuid() == 0:
        os.chown(root / "mail", uid, gid)
        root.chmod(0o755)
        for parent in root.parents:  # the mail user must be able to traverse to its maildirs
            if parent == Path("/tmp") or parent == parent.parent:
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, plaintext=plaintext, **ident))
    return config


def _wait_for_port(proc: subprocess.Popen[bytes], port: int, root: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (
                (root / "dovecot.log").read_text(errors="replace")
                if (root / "dovecot.log").exists()
                else ""
            )
            pytest.fail(
                f"dovecot exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else b''!r}\n{log}"
            )
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail("dovecot did not open its port within 15 s")


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """Start `dovecot -F -c CONFIG` on a free loopback port; stop it at module teardown."""
    binary = _binary()
    if binary is None:
        pytest.skip("dovecot-imapd is not installed: apt-get install dovecot-imapd")
    root = tmp_path_factory.mktemp("dovecot")
    port = _free_port()
    config = _write_config(root, port, binary)
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for_port(proc, port, root)
        server = Dovecot(host="127.0.0.1", port=port, root=root, pid=proc.pid)
        server.client(USERS[-1]).logout()  # its auth process answers too, not only its port
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


_user_numbers = itertools.count()


@pytest.fixture
def imap_user(dovecot: Dovecot) -> str:
    """A mailbox no other test in this module has touched."""
    return USERS[next(_user_numbers) % len(USERS)]


@pytest.fixture(scope="session")
def enron_messages() -> list[bytes]:
    """Real messages from the corpus, read in place (never copied into the repo)."""
    folder = require(CORPUS / "enron" / "maildir")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "/cur/" in str(p))[:40]
    return [p.read_bytes() for p in files]


@pytest.fixture
def seed(dovecot: Dovecot) -> Callable[[str, str, list[bytes]], None]:
    """APPEND `messages` to `folder` (created when missing) in `user`'s mailbox."""

    def append(user: str, folder: str, messages: list[bytes]) -> None:
        with dovecot.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for message in messages:
                client.append(folder, message)

    return append
