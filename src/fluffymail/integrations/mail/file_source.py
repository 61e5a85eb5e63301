"""File mail source (mbox, Maildir++, one-message-per-file folders) behind the `MailSource` port.

Streams with bounded memory (a full re-read also keeps the ids it found, to report the
rest as deleted) and resumes from a cursor: an mbox folder remembers the byte
offset after its last stored message, a Maildir folder the last unique file name (in name
order, which is delivery order for standard Maildir names). Never touches the database.

A Google Takeout export carries each message's Gmail labels (`X-Gmail-Labels`); messages
labelled Spam, Trash, Drafts, Chat or a Promotions/Social/Forums/Updates category are skipped by
default, as a Gmail connection skips them, and counted in `skipped_by_label`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from fluffymail.integrations.mail.files import MailSource as FileContainer
from fluffymail.integrations.mail.files import discover_sources
from fluffymail.integrations.mail.source import Cursor, SourceMail, SourcePage

__all__ = ["SKIPPED_GMAIL_LABELS", "FileSource", "folder_name", "gmail_labels", "same_mbox"]

PAGE_SIZE = 500
_HEAD_BYTES = 1024
_CHUNK = 1 << 20
_MAILDIR_INFO = re.compile(r"[:!;]2,")
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_SNIFF = 4096
# Takeout's names for what a Gmail connection leaves out by default (`gmail.DEFAULT_QUERY`),
# plus Chat (Hangouts transcripts exported as messages); the first one a message has is counted.
SKIPPED_GMAIL_LABELS = (
    "spam",
    "trash",
    "drafts",
    "draft",
    "chat",
    "category promotions",
    "category social",
    "category forums",
    "category updates",
)
_LABELS_WITHIN = 8192  # bytes from the start of a message where X-Gmail-Labels is looked for
_LABELS_HEADER = re.compile(rb"^x-gmail-labels:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)
log = logging.getLogger(__name__)


class FileSource:
    """Every message at or under `root`, page by page, one folder per page.

    Folder names are paths relative to `root` ("mbox/allen-p/inbox", "maildir/south-s/sent"),
    so same-named folders of different mailboxes stay apart.

    Raises:
        MailSourceError: from `pages`/`estimate` if `root` no longer holds mail.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        page_size: int = PAGE_SIZE,
        skip_labels: tuple[str, ...] = SKIPPED_GMAIL_LABELS,
    ) -> None:
        self.root = Path(root)
        self.page_size = page_size
        self.skip_labels = tuple(label.lower() for label in skip_labels)
        self.skipped: list[str] = []  # loose files that were not mail (logged, never silent)
        self.skipped_by_label: Counter[str] = Counter()  # label -> messages (logged)
        self._estimated: tuple[str, int] | None = None  # (cursor as JSON, its estimate)

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        """Yield the messages not covered by `cursor`, each page with the cursor after it.

        Read from no cursor (a first import, or a full re-import of a newer export), it ends
        with one empty page per folder read whose `present_ids` lists every message found:
        what an earlier import stored there and the files no longer hold was deleted. An
        incremental read only appends and reports no deletions."""
        state: dict[str, dict[str, Any]] = {
            name: dict(value) for name, value in ((cursor or {}).get("folders") or {}).items()
        }
        total, read = self.estimate(cursor), 0
        present: dict[str, set[str]] | None = {} if cursor is None else None
        for container in discover_sources(self.root):
            for folder, mails, position in self._folder_chunks(container, state):
                state[folder] = position
                read += len(mails)
                if present is not None:
                    present.setdefault(folder, set()).update(m.source_id for m in mails)
                yield SourcePage(
                    folder=folder,
                    mails=tuple(mails),
                    cursor={"folders": {k: dict(v) for k, v in state.items()}},
                    remaining=max(total - read - self.skipped_by_label.total(), 0),
                )
        for folder, ids in (present or {}).items():  # a full re-read: the rest was deleted
            yield SourcePage(
                folder=folder,
                mails=(),
                cursor={"folders": {k: dict(v) for k, v in state.items()}},
                present_ids=frozenset(ids),
                remaining=0,
            )
        if self.skipped_by_label:
            log.warning(
                "messages skipped by their Gmail labels",
                extra={"action": "mail.skipped_by_label", "labels": dict(self.skipped_by_label)},
            )

    def estimate(self, cursor: Cursor | None) -> int:
        """How many messages `pages(cursor)` will yield (cheap: no parsing). Kept for the same
        cursor: `fluffymail import` asks before the sync and `pages` asks again, and on a
        multi-GB mbox each answer is a scan of the whole file."""
        key = json.dumps(cursor, sort_keys=True, default=str)
        if self._estimated is None or self._estimated[0] != key:
            self._estimated = (key, self._count(cursor))
        return self._estimated[1]

    def _count(self, cursor: Cursor | None) -> int:
        state = (cursor or {}).get("folders") or {}
        total = 0
        for container in discover_sources(self.root):
            if container.kind == "mbox":
                position = state.get(folder_name(self.root, container, ""))
                total += _count_from(container.path, _resume_offset(container.path, position))
            elif container.kind == "maildir":
                total += sum(1 for _ in self._maildir_files(container, state))
            else:
                last = (state.get(folder_name(self.root, container, "")) or {}).get("last")
                files = _loose_files(container.path)
                total += sum(1 for f in files if last is None or f.name > last)
        return total

    def _folder_chunks(
        self, container: FileContainer, state: dict[str, dict[str, Any]]
    ) -> Iterator[tuple[str, list[SourceMail], dict[str, Any]]]:
        if container.kind == "mbox":
            mails = self._mbox_mails(container, state)
        elif container.kind == "maildir":
            mails = self._maildir_mails(container, state)
        else:
            mails = self._message_dir_mails(container, state)
        yield from _chunked(mails, self.page_size, self._wanted if self.skip_labels else None)

    def _wanted(self, mail: SourceMail) -> bool:
        """False (and counted) for a message with a label in `skip_labels`."""
        labels = gmail_labels(mail.raw)
        if not labels:
            return True
        for label in self.skip_labels:
            if label in labels:
                self.skipped_by_label[label] += 1
                return False
        return True

    def _mbox_mails(
        self, container: FileContainer, state: dict[str, dict[str, Any]]
    ) -> Iterator[tuple[SourceMail, dict[str, Any]]]:
        folder = folder_name(self.root, container, "")
        path = container.path
        head, covered = "", -1
        for start, raw, end in iter_mbox_from(path, _resume_offset(path, state.get(folder))):
            mail = SourceMail(folder=folder, source_id=f"{path.name}:{start}", raw=raw)
            if covered < min(end, _HEAD_BYTES):
                head, covered = _head_hash(path, end), min(end, _HEAD_BYTES)
            yield mail, {"offset": end, "head": head}

    def _maildir_mails(
        self, container: FileContainer, state: dict[str, dict[str, Any]]
    ) -> Iterator[tuple[SourceMail, dict[str, Any]]]:
        for folder, unique, file in self._maildir_files(container, state):
            mail = SourceMail(folder=folder, source_id=unique, raw=file.read_bytes())
            yield mail, {"last": unique}

    def _maildir_files(
        self, container: FileContainer, state: dict[str, Any]
    ) -> Iterator[tuple[str, str, Path]]:
        """(folder, unique name, file) after each folder's cursor, in unique-name order.

        new/ and cur/ are merged, so a message moved from new/ to cur/ keeps its place.
        """
        for inner, directory in _maildir_folders(container.path):
            folder = folder_name(self.root, container, inner)
            last = (state.get(folder) or {}).get("last")
            entries = sorted(
                (_MAILDIR_INFO.split(file.name, maxsplit=1)[0], file)
                for sub in ("new", "cur")
                if (directory / sub).is_dir()
                for file in (directory / sub).iterdir()
                if file.is_file() and not file.name.startswith(".")
            )
            for unique, file in entries:
                if last is None or unique > last:
                    yield folder, unique, file

    def _message_dir_mails(
        self, container: FileContainer, state: dict[str, dict[str, Any]]
    ) -> Iterator[tuple[SourceMail, dict[str, Any]]]:
        folder = folder_name(self.root, container, "")
        last = (state.get(folder) or {}).get("last")
        for file in _loose_files(container.path):
            if last is not None and file.name <= last:
                continue
            raw = file.read_bytes()
            if not _is_mail(file, raw):
                self.skipped.append(str(file))
                log.warning(
                    "not mail, skipped",
                    extra={"action": "mail.file_skipped", "path": str(file)},
                )
                continue
            mail = SourceMail(folder=folder, source_id=file.name, raw=_drop_envelope(raw))
            yield mail, {"last": file.name}


def _chunked(
    mails: Iterator[tuple[SourceMail, dict[str, Any]]],
    size: int,
    wanted: Callable[[SourceMail], bool] | None = None,
) -> Iterator[tuple[str, list[SourceMail], dict[str, Any]]]:
    """Pages of up to `size` mails of one folder, each with the folder position after it.

    Mails `wanted` refuses are left out but still advance the position (a page can then be
    empty: a folder that ends in skipped mail), so they are not read again."""
    chunk: list[SourceMail] = []
    folder, last, moved = "", {}, False
    for mail, position in mails:
        if moved and (mail.folder != folder or len(chunk) >= size):
            yield folder, chunk, last
            chunk, moved = [], False
        if wanted is None or wanted(mail):
            chunk.append(mail)
        folder, last, moved = mail.folder, position, True
    if moved:
        yield folder, chunk, last


def gmail_labels(raw: bytes) -> frozenset[str]:
    """The lower-cased Gmail labels of a Google Takeout message (its `X-Gmail-Labels` header, a
    CSV list, possibly folded, spelled as Takeout writes it or lower-cased, within the first
    8 KiB); empty for other mail."""
    # Takeout writes the header among the first ones: two bounded scans clear other mail fast
    if (
        raw.find(b"X-Gmail-Labels:", 0, _LABELS_WITHIN) < 0
        and raw.find(b"x-gmail-labels:", 0, _LABELS_WITHIN) < 0
    ):
        return frozenset()
    end = raw.find(b"\n\n")
    end = len(raw) if end < 0 else end
    crlf = raw.find(b"\n\r\n", 0, end)
    match = _LABELS_HEADER.search(raw[: (crlf if crlf >= 0 else end) + 1])
    if match is None:
        return frozenset()
    value = re.sub(rb"\r?\n[ \t]", b" ", match[1]).decode("utf-8", "replace").strip()
    return frozenset(label.strip().lower() for label in next(csv.reader([value])) if label.strip())


def _loose_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".") and p.is_file())


def _is_mail(file: Path, raw: bytes) -> bool:
    """A loose file is mail when it opens (after blank space) with an envelope or a header
    line, or is named *.eml; licences, indexes and Outlook .msg binaries are not."""
    head = raw[:_SNIFF].lstrip()
    return (
        file.suffix.lower() == ".eml"
        or head.startswith(b"From ")
        or _HEADER_LINE.match(head) is not None
    )


def _drop_envelope(raw: bytes) -> bytes:
    if not raw.startswith(b"From "):
        return raw
    newline = raw.find(b"\n")
    return raw[newline + 1 :] if newline >= 0 else b""


def _maildir_folders(root: Path) -> Iterator[tuple[str, Path]]:
    """As `files.iter_maildir` names them: root cur/new is "inbox", ".a.b" is "a/b"."""
    if (root / "cur").is_dir() or (root / "new").is_dir():
        yield "inbox", root
    for child in sorted(root.iterdir()):
        if (
            child.name.startswith(".")
            and child.name not in (".", "..")
            and ((child / "cur").is_dir() or (child / "new").is_dir())
        ):
            yield child.name[1:].replace(".", "/"), child


def folder_name(root: Path, container: FileContainer, inner: str) -> str:
    """A folder's name: the container's path relative to the import root, plus the inner
    Maildir folder; an mbox drops its suffix ("mbox/allen-p/inbox")."""
    if container.kind == "mbox":
        relative = container.path.relative_to(root) if container.path != root else Path(root.name)
        return relative.with_suffix("").as_posix()
    if container.kind == "message_dir":
        relative = container.path.relative_to(root) if container.path != root else Path()
        return relative.as_posix() if relative != Path() else root.name
    base = container.path.relative_to(root).as_posix() if container.path != root else ""
    return f"{base}/{inner}" if base else inner


# -- mbox from an offset -----------------------------------------------------------------


def iter_mbox_from(path: Path, offset: int = 0) -> Iterator[tuple[int, bytes, int]]:
    """(start offset, message bytes, end offset) for each mbox message starting at `offset`.

    Same framing as `files.iter_mbox`: the "From " envelope line and the blank line before
    the next envelope are dropped; `>From ` escapes stay. Envelopes are found in 1 MiB
    chunks at C speed; each message is then read whole (memory: one message and one chunk).
    """
    with path.open("rb") as scan, path.open("rb") as reader:
        bounds = _envelope_offsets(scan, offset)
        start = next(bounds, None)
        if start is None:
            return
        for end in bounds:  # the last bound is the end of the file, not an envelope
            reader.seek(start)
            yield start, _frame(reader.read(end - start)), end
            start = end


def _envelope_offsets(handle: BinaryIO, offset: int) -> Iterator[int]:
    """The file offset of each envelope line ("From " at a line start) from `offset` (itself
    a line start) on, then the offset of the end of the file."""
    handle.seek(offset)
    carry, base = b"\n", offset - 1  # data[0] is at file offset `base`
    any_found = False
    while chunk := handle.read(_CHUNK):
        data = carry + chunk
        found = data.find(b"\nFrom ")
        while found >= 0:
            any_found = True
            yield base + found + 1
            found = data.find(b"\nFrom ", found + 1)
        carry = data[-5:]  # a "\nFrom " split across two chunks is found next round
        base += len(data) - len(carry)
    if any_found:
        yield base + len(carry)


def _frame(raw: bytes) -> bytes:
    """A message's bytes without its envelope line and the blank line that ends it."""
    newline = raw.find(b"\n")
    content = raw[newline + 1 :] if newline >= 0 else b""
    if content in (b"\n", b"\r\n"):
        return b""
    if content.endswith(b"\n\n"):
        return content[:-1]
    if content.endswith(b"\n\r\n"):
        return content[:-2]
    return content


def _head_hash(path: Path, offset: int) -> str:
    """A hash of the file's first bytes, up to `offset` (bytes already read stay unchanged
    when mail is appended; a replaced file is detected)."""
    with path.open("rb") as handle:
        return hashlib.sha1(handle.read(min(_HEAD_BYTES, offset))).hexdigest()[:16]


def same_mbox(path: Path, cursor: Cursor | None) -> bool:
    """Whether the mbox file at `path` is the one whose import left `cursor`, found again
    elsewhere (moved, copied, uploaded again; grown or not): that import read this one file,
    of the same name, and `path` starts with the bytes it read first (the head a resumed read
    checks). Another export of the mailbox starts with other bytes: it is not recognised."""
    folders = (cursor or {}).get("folders") or {}
    position = folders.get(Path(path.name).with_suffix("").as_posix())
    if len(folders) != 1 or not position or not position.get("head") or not path.is_file():
        return False
    offset = int(position.get("offset", 0))
    if not offset or path.stat().st_size < min(_HEAD_BYTES, offset):
        return False
    return position["head"] == _head_hash(path, offset)


def _resume_offset(path: Path, position: dict[str, Any] | None) -> int:
    """Where to resume an mbox: the stored offset, unless the file was replaced or shrank."""
    if not position:
        return 0
    offset = int(position.get("offset", 0))
    if offset > path.stat().st_size or position.get("head") != _head_hash(path, offset):
        return 0
    return offset


def _count_from(path: Path, offset: int) -> int:
    """How many messages start at or after `offset` (envelope scan only: no message read)."""
    with path.open("rb") as handle:
        return max(sum(1 for _ in _envelope_offsets(handle, offset)) - 1, 0)  # less the end
