"""Streaming readers for mail on disk: mbox, Maildir++ and one-message-per-file directories.

Nothing here loads a whole mailbox: mbox files are read line by line, other formats file
by file. Yields undecoded `RawMail`; parsing is `crm.messages.parse`'s job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fluffymail.crm.messages.models import RawMail
from fluffymail.errors import FluffyMailError

__all__ = [
    "MailSource",
    "MailSourceError",
    "count_messages",
    "discover_sources",
    "iter_maildir",
    "iter_mbox",
    "iter_message_dir",
    "iter_source",
]

MBOX_SUFFIXES = frozenset({".mbox", ".mbx", ".mbs"})
_SNIFF_BYTES = 4096
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_MAILDIR_INFO = re.compile(r"[:!;]2,")

SourceKind = Literal["mbox", "maildir", "message_dir"]


class MailSourceError(FluffyMailError):
    """Not a mailbox: the path does not exist or holds no mail."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MailSource:
    """One readable mail container found on disk."""

    kind: SourceKind
    path: Path


def iter_mbox(path: str | os.PathLike[str]) -> Iterator[RawMail]:
    """Yield each message of an mbox file (mboxo/mboxrd), reading it line by line.

    Messages start at lines beginning b"From "; that envelope line is dropped, and so is
    the blank line mbox writers put before the next one. `>From ` escapes are left as they
    are (mboxo escaping cannot be undone reliably).
    """
    mbox = Path(path)
    with mbox.open("rb") as handle:
        offset = 0
        start = -1
        lines: list[bytes] = []
        for line in handle:
            if line.startswith(b"From "):
                if start >= 0:
                    yield _mbox_mail(mbox, start, lines)
                start, lines = offset, []
            elif start >= 0:
                lines.append(line)
            offset += len(line)
        if start >= 0:
            yield _mbox_mail(mbox, start, lines)


def _mbox_mail(mbox: Path, offset: int, lines: list[bytes]) -> RawMail:
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines.pop()
    return RawMail(
        folder=mbox.stem, source_id=f"{mbox.name}:{offset}", raw=b"".join(lines), path=str(mbox)
    )


def iter_maildir(path: str | os.PathLike[str]) -> Iterator[RawMail]:
    """Yield every message of a Maildir++ tree, file by file, in name order.

    The root `cur/` and `new/` are folder "inbox"; `.<name>/` subfolders are `<name>`, with
    Maildir++ dots as hierarchy ("`.a.b`" -> "a/b"). `tmp/` is skipped. `source_id` is the
    unique part of the file name, before the ":2," flags.
    """
    for folder, directory in _maildir_folders(Path(path)):
        for sub in ("new", "cur"):
            for file in _regular_files(directory / sub):
                unique = _MAILDIR_INFO.split(file.name, maxsplit=1)[0]
                yield RawMail(
                    folder=folder, source_id=unique, raw=file.read_bytes(), path=str(file)
                )


def _maildir_folders(root: Path) -> Iterator[tuple[str, Path]]:
    if _has_maildir_dirs(root):
        yield "inbox", root
    for child in sorted(root.iterdir()):
        if (
            child.name.startswith(".")
            and child.name not in (".", "..")
            and _has_maildir_dirs(child)
        ):
            yield child.name[1:].replace(".", "/"), child


def _has_maildir_dirs(directory: Path) -> bool:
    return (directory / "cur").is_dir() or (directory / "new").is_dir()


def is_maildir(directory: Path) -> bool:
    """A Maildir has cur/ or new/, or (Maildir++ with no inbox) a `.folder` that has them."""
    if _has_maildir_dirs(directory):
        return True
    return any(
        child.name.startswith(".") and child.is_dir() and _has_maildir_dirs(child)
        for child in directory.iterdir()
    )


def iter_message_dir(path: str | os.PathLike[str]) -> Iterator[RawMail]:
    """Yield each message-looking file of a one-message-per-file directory (not recursive).

    The folder is the directory's name; a leading mbox "From " envelope line is dropped.
    """
    directory = Path(path)
    for file in _regular_files(directory):
        if _looks_like_message(file):
            raw = _drop_envelope(file.read_bytes())
            yield RawMail(folder=directory.name, source_id=file.name, raw=raw, path=str(file))


def _drop_envelope(raw: bytes) -> bytes:
    if not raw.startswith(b"From "):
        return raw
    newline = raw.find(b"\n")
    return raw[newline + 1 :] if newline >= 0 else b""


def iter_source(path: str | os.PathLike[str]) -> Iterator[RawMail]:
    """Yield every message under `path`, whatever mix of formats it holds.

    Raises:
        MailSourceError: at call time, if `path` does not exist or holds no mail.
    """
    sources = discover_sources(path)
    return _chain(sources)


def _chain(sources: list[MailSource]) -> Iterator[RawMail]:
    readers = {"mbox": iter_mbox, "maildir": iter_maildir, "message_dir": iter_message_dir}
    for source in sources:
        yield from readers[source.kind](source.path)


def discover_sources(path: str | os.PathLike[str]) -> list[MailSource]:
    """Find the mail containers at or under `path`, in a stable order.

    A file is an mbox when it starts with a "From " line and either has an mbox suffix
    or holds a second "From " line; a directory is a Maildir when it has cur/ or new/
    (or `.folder`s that do); any other directory with message-looking files is a
    one-message-per-file folder, and its subdirectories are searched too.

    Raises:
        MailSourceError: if `path` does not exist or holds no mail.
    """
    root = Path(path)
    if not root.exists():
        raise MailSourceError(f"not a mailbox: {root} does not exist")
    sources = _discover_file(root) if root.is_file() else _discover_dir(root)
    if not sources:
        raise MailSourceError(f"not a mailbox: {root} holds no mail")
    return sources


def _discover_file(file: Path) -> list[MailSource]:
    if _first_line(file).startswith(b"From "):
        return [MailSource(kind="mbox", path=file)]
    return []


def _discover_dir(directory: Path) -> list[MailSource]:
    if is_maildir(directory):
        return [MailSource(kind="maildir", path=directory)]
    sources: list[MailSource] = []
    loose = False
    for file in _regular_files(directory):
        if _is_mbox_file(file):
            sources.append(MailSource(kind="mbox", path=file))
        elif not loose and _looks_like_message(file):
            loose = True
    if loose:
        sources.append(MailSource(kind="message_dir", path=directory))
    for child in sorted(
        p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        sources.extend(_discover_dir(child))
    return sources


def _regular_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".") and p.is_file())


def _first_line(file: Path) -> bytes:
    """The first non-empty line of `file` (within its first 4 KiB)."""
    with file.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    return head.lstrip(b"\r\n").split(b"\n", 1)[0]


def _is_mbox_file(file: Path) -> bool:
    if not _first_line(file).startswith(b"From "):
        return False
    return file.suffix.lower() in MBOX_SUFFIXES or _has_second_envelope(file)


def _has_second_envelope(file: Path) -> bool:
    with file.open("rb") as handle:
        next(handle, None)
        return any(line.startswith(b"From ") for line in handle)


def _looks_like_message(file: Path) -> bool:
    line = _first_line(file)
    return line.startswith(b"From ") or _HEADER_LINE.match(line) is not None


def count_messages(path: str | os.PathLike[str]) -> int:
    """Cheaply count the messages `iter_source(path)` will yield (for progress bars)."""
    total = 0
    for source in discover_sources(path):
        if source.kind == "mbox":
            total += _count_envelopes(source.path)
        elif source.kind == "maildir":
            total += sum(
                len(_regular_files(d / s))
                for _, d in _maildir_folders(source.path)
                for s in ("new", "cur")
            )
        else:
            total += sum(1 for f in _regular_files(source.path) if _looks_like_message(f))
    return total


def _count_envelopes(file: Path) -> int:
    with file.open("rb") as handle:
        return sum(1 for line in handle if line.startswith(b"From "))
