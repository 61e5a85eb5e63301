"""IMAP mail source (imapclient, run in a worker thread): folders, per-folder UID cursors, deletions.

A pure adapter: yields `SourcePage`s and never touches the database. It connects only to an
address the outbound policy allows (`integrations.net`), resolved once; TLS still verifies
the certificate against the host name the user gave.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imap_errors

from fluffymail.integrations import net
from fluffymail.integrations.mail import imap_fetch
from fluffymail.integrations.mail.source import (
    AuthError,
    Cursor,
    SourceError,
    SourceMail,
    SourcePage,
    TransientSourceError,
)

__all__ = [
    "DEFAULT_SKIP_FLAGS",
    "DEFAULT_SKIP_NAMES",
    "IMAP_PORTS",
    "ImapConfig",
    "ImapFolder",
    "ImapSource",
    "connect",
]

log = logging.getLogger(__name__)
SERVER_TEXT_CHARS = 200  # a server's words quoted to the user, at most
T = TypeVar("T")

DEFAULT_SKIP_FLAGS = frozenset({"\\drafts", "\\trash", "\\junk"})
DEFAULT_SKIP_NAMES = frozenset(
    {
        "drafts", "draft", "trash", "bin", "deleted", "deleted items", "deleted messages",
        "junk", "junk e-mail", "junk email", "spam", "bulk mail",
    }
)  # fmt: skip
IMAP_PORTS = frozenset({993, 143})  # TLS, and plain or STARTTLS
_GMAIL_EXT = b"X-GM-EXT-1"
_CONDSTORE = b"CONDSTORE"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapConfig:
    """How to reach and read one IMAP account.

    Give `password` for LOGIN or `access_token` for XOAUTH2. `folders` limits the sync to
    those names; otherwise every selectable folder is synced except the ones carrying a
    `skip_flags` SPECIAL-USE flag or named like one of `skip_names` (last path segment,
    case-insensitive). On Gmail (X-GM-EXT-1) only the `\\All` folder is synced, since every
    label is a view of it. `ssl_context` defaults to the system's trusted authorities.
    """

    host: str
    username: str
    port: int = 993
    ssl: bool = True
    starttls: bool = False
    password: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    folders: tuple[str, ...] | None = None
    skip_flags: frozenset[str] = DEFAULT_SKIP_FLAGS
    skip_names: frozenset[str] = DEFAULT_SKIP_NAMES
    page_size: int = 200
    timeout: float = 60.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapFolder:
    """One LIST entry: name, hierarchy delimiter and lower-cased flags."""

    name: str
    delimiter: str
    flags: frozenset[str]

    @property
    def leaf(self) -> str:
        return self.name.rsplit(self.delimiter, 1)[-1] if self.delimiter else self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class _Status:
    uidvalidity: int
    uidnext: int | None
    messages: int | None
    highestmodseq: int | None

    def matches(self, state: dict[str, Any]) -> bool:
        """True when the folder is exactly as the last completed sync left it."""
        return (
            state.get("uidvalidity") == self.uidvalidity
            and state.get("uidnext") == self.uidnext
            and state.get("messages") == self.messages
            and state.get("highestmodseq") == self.highestmodseq
        )


Connect = Callable[[ImapConfig, net.OutboundPolicy], IMAPClient]


def connect(
    config: ImapConfig, policy: net.OutboundPolicy, *, resolve: net.Resolve = socket.getaddrinfo
) -> IMAPClient:
    """Open and authenticate a connection (blocking) to an address `policy` allows.

    Raises:
        net.OutboundRefused: the host is on a private network or the port is not allowed.
        net.Unreachable: no such host, refused, timed out, a TLS failure or not an IMAP
            server, said in the user's terms (never the other side's words).
        AuthError: the server refused the login.
    """
    address = net.resolve_public(config.host, config.port, policy, resolve=resolve)
    client = _open(address, config)
    try:
        if config.access_token is not None:
            client.oauth2_login(config.username, config.access_token)
        else:
            client.login(config.username, config.password or "")
    except imap_errors.LoginError as exc:
        _close(client)
        raise _login_failure(exc, f"for {config.username} at {config.host}") from exc
    client.normalise_times = False
    return client


def _open(address: net.Address, config: ImapConfig) -> IMAPClient:
    """Connect, read the greeting and upgrade to TLS when asked; failures in user terms."""
    timeout = SocketTimeout(connect=min(net.CONNECT_TIMEOUT, config.timeout), read=config.timeout)
    client: IMAPClient | None = None
    try:
        context = config.ssl_context or ssl.create_default_context()
        client = _PinnedClient(address, ssl=config.ssl, ssl_context=context, timeout=timeout)
        if config.starttls:
            client.starttls(context)
    except net.OutboundError:
        raise
    except Exception as exc:
        if client is not None:
            _close(client)
        raise _not_imap(address, config, exc) from exc
    return client


# What to try when the chosen security does not fit the port: the settings' own words
# (the page's "Security" choices, the CLI's and API's `security`).
_TRY_STARTTLS = "if it expects STARTTLS on this port, choose STARTTLS (usually port 143)"
_TRY_SSL = "if it expects TLS from the start, choose SSL/TLS (usually port 993)"
# OpenSSL's reasons for a TLS handshake answered in plain text (an IMAP greeting)
_PLAIN_TEXT_REPLY = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL"}
)


def _not_imap(address: net.Address, config: ImapConfig, exc: Exception) -> net.Unreachable:
    """Why talking IMAP failed, from our side of the connection (never the server's text),
    with the security setting to try when the one chosen looks like the wrong one for the
    port: TLS refused by a server that greets in plain text, no STARTTLS offered, or a
    silent server (one that waits for TLS says nothing first)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return net.Unreachable(
            f"{address.where} did not prove it is {address.host} ({exc.verify_message})"
        )
    if isinstance(exc, ssl.SSLError):
        hint = f": {_TRY_STARTTLS}" if config.ssl and exc.reason in _PLAIN_TEXT_REPLY else ""
        return net.Unreachable(f"could not set up TLS with {address.where}{hint}")
    if isinstance(exc, imap_errors.CapabilityError) and config.starttls:
        return net.Unreachable(f"{address.where} does not offer STARTTLS: {_TRY_SSL}")
    detail = f" ({net.failure(exc)})" if isinstance(exc, OSError) else ""
    hint = f": {_TRY_SSL}" if isinstance(exc, TimeoutError) and not config.ssl else ""
    return net.Unreachable(f"{address.where} did not answer like an IMAP server{detail}{hint}")


class _PinnedClient(IMAPClient):
    """An IMAPClient connected to a checked address; TLS verifies the host name given."""

    def __init__(self, address: net.Address, **options: Any) -> None:
        self._address = address
        super().__init__(address.host, port=address.port, **options)

    def _create_IMAP4(self) -> imaplib.IMAP4:
        connect_timeout = self._timeout.connect
        if self.ssl:
            return _PinnedTLS(self._address, connect_timeout, self.ssl_context)
        return _PinnedIMAP4(self._address, connect_timeout)


class _PinnedIMAP4(imaplib.IMAP4):
    """imaplib over a socket to the checked address; `host` stays the name (for STARTTLS)."""

    def __init__(self, address: net.Address, timeout: float | None) -> None:
        self._address = address
        super().__init__(address.host, address.port, timeout=timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return net.open_socket(self._address, timeout or net.CONNECT_TIMEOUT)


class _PinnedTLS(_PinnedIMAP4):
    def __init__(
        self, address: net.Address, timeout: float | None, context: ssl.SSLContext | None
    ) -> None:
        self._context = context or ssl.create_default_context()
        super().__init__(address, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = super()._create_socket(timeout)
        try:
            return self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class ImapSource:
    """Reads an IMAP account folder by folder, from a per-folder UID cursor.

    Cursor: `{"folders": {name: {"uidvalidity", "last_uid", "uidnext", "messages",
    "highestmodseq"}}}`. `last_uid` advances page by page; the STATUS snapshot is written
    only with a folder's last page, so an unchanged folder is skipped only when its
    previous sync finished.

    `on_activity`, when set, is called after every answer from the server with the folder
    being read (None before the first): a sync tells a slow server from a frozen one by it.
    """

    def __init__(
        self, config: ImapConfig, *, policy: net.OutboundPolicy, connector: Connect = connect
    ) -> None:
        self._config = config
        self._policy = policy
        self._connect = connector
        self.on_activity: Callable[[str | None], None] | None = None

    async def _ask(self, folder: str | None, fn: Callable[..., T], *args: Any) -> T:
        """`_blocking(fn, *args)`, then report the server's answer to `on_activity`."""
        result = await _blocking(fn, *args)
        if self.on_activity is not None:
            self.on_activity(folder)
        return result

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        """Yield new mail page by page, plus deletion reports, for every synced folder."""
        state: dict[str, dict[str, Any]] = {
            name: dict(value) for name, value in ((cursor or {}).get("folders") or {}).items()
        }
        client = await self._ask(None, self._connect, self._config, self._policy)
        try:
            capabilities = await self._ask(None, client.capabilities)
            listed = await self._ask(None, _list_folders, client)
            for folder in self._selected(listed, capabilities):
                async for page in self._sync_folder(client, folder, capabilities, state):
                    yield page
            for page in _vanished(listed, state):
                yield page
        finally:
            await asyncio.to_thread(_close, client)

    def _selected(
        self, listed: list[ImapFolder], capabilities: Sequence[bytes]
    ) -> list[ImapFolder]:
        selectable = [f for f in listed if "\\noselect" not in f.flags]
        if self._config.folders is not None:
            wanted = set(self._config.folders)
            return [f for f in selectable if f.name in wanted]
        if _GMAIL_EXT in capabilities:
            all_mail = [f for f in selectable if "\\all" in f.flags]
            if all_mail:
                return all_mail
        return [f for f in selectable if not self._skipped(f)]

    def _skipped(self, folder: ImapFolder) -> bool:
        return bool(folder.flags & self._config.skip_flags) or (
            folder.leaf.casefold() in self._config.skip_names
        )

    async def _sync_folder(
        self,
        client: IMAPClient,
        folder: ImapFolder,
        capabilities: Sequence[bytes],
        state: dict[str, dict[str, Any]],
    ) -> AsyncIterator[SourcePage]:
        condstore = _CONDSTORE in capabilities
        status = await self._ask(folder.name, _folder_status, client, folder.name, condstore)
        previous = state.get(folder.name, {})
        if status.matches(previous):
            return
        resync = bool(previous) and previous.get("uidvalidity") != status.uidvalidity
        if resync:
            log.info(
                "uidvalidity changed; re-syncing folder",
                extra={"action": "imap.resync", "folder": folder.name},
            )
            previous = {}
        last_uid = int(previous.get("last_uid", 0))
        present = await self._ask(folder.name, _select_and_search, client, folder.name)
        new_uids = [uid for uid in present if uid > last_uid]
        present_ids = frozenset(_source_id(status.uidvalidity, uid) for uid in present)
        state[folder.name] = {**previous, "uidvalidity": status.uidvalidity, "last_uid": last_uid}
        chunks = _chunks(new_uids, self._config.page_size) or [[]]
        gmail = _GMAIL_EXT in capabilities

        def fetch(chunk: list[int]) -> asyncio.Task[dict[int, dict[bytes, Any]]] | None:
            if not chunk:
                return None
            return asyncio.ensure_future(self._ask(folder.name, _fetch, client, chunk, gmail))

        # The next page is read while this one is parsed and stored (issue 21: reading only
        # when asked left the connection idle for most of a sync).
        pending = fetch(chunks[0])
        try:
            for index, chunk in enumerate(chunks):
                fetched = await pending if pending is not None else {}
                pending = fetch(chunks[index + 1]) if index + 1 < len(chunks) else None
                mails = tuple(
                    _mail(folder.name, status.uidvalidity, uid, fetched[uid])
                    for uid in chunk
                    if uid in fetched
                )
                last_uid = _advance(last_uid, chunk, fetched)
                final = index == len(chunks) - 1
                state[folder.name] = _folder_state(status, last_uid, new_uids, final, previous)
                yield SourcePage(
                    folder=folder.name,
                    mails=mails,
                    cursor={"folders": {k: dict(v) for k, v in state.items()}},
                    resync=resync and index == 0,
                    present_ids=present_ids if index == 0 else None,
                    remaining=sum(len(c) for c in chunks[index + 1 :]),
                )
        finally:
            if pending is not None:
                await _abandon(pending, client)
        log.info(
            "imap folder synced",
            extra={"action": "imap.folder", "folder": folder.name, "new": len(new_uids)},
        )


async def _abandon(fetch: asyncio.Task[Any], client: IMAPClient) -> None:
    """Stop waiting for a read ahead that is no longer wanted. Still running, its thread is
    using the connection: close the socket under it (it fails at once, and the logout after
    it fails quietly) rather than talk over it."""
    if fetch.done():
        if not fetch.cancelled():
            fetch.exception()  # retrieved: an error in a page nobody asked for is moot
        return
    fetch.cancel()
    await asyncio.to_thread(_shutdown, client)


def _shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # already closed
        log.debug("imap shutdown failed", extra={"action": "imap.shutdown"}, exc_info=True)


def _folder_state(
    status: _Status, last_uid: int, new_uids: list[int], final: bool, previous: dict[str, Any]
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "uidvalidity": status.uidvalidity,
        "last_uid": last_uid,
        "uidnext": previous.get("uidnext"),
        "messages": previous.get("messages"),
        "highestmodseq": previous.get("highestmodseq"),
    }
    if final and (not new_uids or last_uid >= new_uids[-1]):
        state.update(
            uidnext=status.uidnext, messages=status.messages, highestmodseq=status.highestmodseq
        )
    return state


def _advance(last_uid: int, chunk: list[int], fetched: dict[int, Any]) -> int:
    """Move past the UIDs fetched, stopping at the first one the server did not return."""
    for uid in chunk:
        if uid not in fetched:
            break
        last_uid = uid
    return last_uid


def _vanished(listed: list[ImapFolder], state: dict[str, dict[str, Any]]) -> Iterable[SourcePage]:
    """Report folders in the cursor that no longer exist on the server as emptied."""
    names = {f.name for f in listed}
    for name in [n for n in state if n not in names]:
        del state[name]
        yield SourcePage(
            folder=name,
            mails=(),
            cursor={"folders": {k: dict(v) for k, v in state.items()}},
            present_ids=frozenset(),
        )


def _list_folders(client: IMAPClient) -> list[ImapFolder]:
    folders = []
    for flags, delimiter, name in client.list_folders():
        folders.append(
            ImapFolder(
                name=name if isinstance(name, str) else name.decode(),
                delimiter=_text(delimiter) if delimiter else "",
                flags=frozenset(_text(f).lower() for f in flags),
            )
        )
    return folders


def _folder_status(client: IMAPClient, name: str, condstore: bool) -> _Status:
    items = [b"UIDVALIDITY", b"UIDNEXT", b"MESSAGES"] + ([b"HIGHESTMODSEQ"] if condstore else [])
    status = client.folder_status(name, items)
    return _Status(
        uidvalidity=int(status[b"UIDVALIDITY"]),
        uidnext=_int_or_none(status.get(b"UIDNEXT")),
        messages=_int_or_none(status.get(b"MESSAGES")),
        highestmodseq=_int_or_none(status.get(b"HIGHESTMODSEQ")),
    )


def _select_and_search(client: IMAPClient, name: str) -> list[int]:
    """Every UID in the folder, ascending (UID SEARCH ALL sidesteps the empty-folder `*` quirk)."""
    client.select_folder(name, readonly=True)
    return sorted(int(uid) for uid in client.search("ALL"))


def _fetch(client: IMAPClient, uids: list[int], gmail: bool) -> dict[int, dict[bytes, Any]]:
    """The page's messages; read by `imap_fetch` (a third of imapclient's CPU for the same
    answers, issue 21) except on Gmail, whose X-GM items imapclient reads."""
    if gmail:
        items = [b"BODY.PEEK[]", b"FLAGS", b"INTERNALDATE", b"X-GM-MSGID", b"X-GM-THRID"]
        response = client.fetch(uids, [*items, b"X-GM-LABELS"])
    else:
        response = imap_fetch.fetch_mail(client, uids)
    return {uid: data for uid, data in response.items() if b"BODY[]" in data}


def _mail(folder: str, uidvalidity: int, uid: int, data: dict[bytes, Any]) -> SourceMail:
    gm_id = data.get(b"X-GM-MSGID")
    thread = data.get(b"X-GM-THRID")
    internal = data.get(b"INTERNALDATE")
    return SourceMail(
        folder=folder,
        source_id=_source_id(uidvalidity, uid),
        raw=bytes(data[b"BODY[]"]),
        uid=uid,
        gmail_id=str(gm_id) if gm_id is not None else None,
        thread_id=str(thread) if thread is not None else None,
        labels=tuple(_text(label) for label in data.get(b"X-GM-LABELS", ())),
        flags=tuple(_text(flag) for flag in data.get(b"FLAGS", ())),
        internal_date=internal if isinstance(internal, datetime) else None,
    )


def _source_id(uidvalidity: int, uid: int) -> str:
    return f"{uidvalidity}:{uid}"


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _blocking(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking imapclient call in a thread, mapping failures to source errors."""
    try:
        return await asyncio.to_thread(fn, *args)
    except SourceError:
        raise
    except net.Unreachable as exc:
        raise TransientSourceError(exc.reason) from exc
    except net.OutboundRefused as exc:
        raise SourceError(exc.reason) from exc
    except imap_errors.LoginError as exc:
        raise _login_failure(exc) from exc
    except (OSError, imaplib.IMAP4.abort) as exc:  # network, TLS, dropped connection
        raise TransientSourceError(f"IMAP connection failed: {exc}") from exc
    except imaplib.IMAP4.error as exc:
        raise TransientSourceError(f"IMAP command failed: {_server_text(exc)}") from exc


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; nothing to clean up then
        log.debug("imap logout failed", extra={"action": "imap.logout"}, exc_info=True)


# RFC 5530 response codes that say a sign-in failed for a passing reason, not because of the
# credentials: the stored password must not be set aside for these (that stops all syncing).
_TRANSIENT_LOGIN_CODES = ("[UNAVAILABLE]", "[INUSE]", "[SERVERBUG]", "[LIMIT]")


def _login_failure(exc: BaseException, who: str = "") -> SourceError:
    """A refused sign-in: the credentials (AuthError), or a server busy for now (retried)."""
    text = _server_text(exc)
    if any(code in text.upper() for code in _TRANSIENT_LOGIN_CODES):
        return TransientSourceError(f"the IMAP server could not sign in just now: {text}")
    reason = f"IMAP login refused{' ' + who if who else ''}: {text}"
    return AuthError(reason, reason=reason)


def _server_text(exc: BaseException) -> str:
    """What the server said, as quoted to the user: one line of printable text, at most
    `SERVER_TEXT_CHARS` (its reason for refusing a sign-in often says what to do)."""
    text = str(exc).strip()
    for prefix in ("b'", 'b"'):
        if text.startswith(prefix) and text.endswith(text[1]):
            text = text[2:-1]
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(text) > SERVER_TEXT_CHARS:
        text = text[: SERVER_TEXT_CHARS - 1] + "…"
    return text or type(exc).__name__


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None
