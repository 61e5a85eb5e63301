"""Mailbox readers on small mailboxes built in tmp_path: boundaries, folders, detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluffymail.errors import FluffyMailError
from fluffymail.integrations.mail.files import (
    MailSourceError,
    count_messages,
    iter_maildir,
    iter_mbox,
    iter_source,
)

_MBOX = (
    b"From MAILER-DAEMON Mon Apr 18 14:23:23 2022\n"
    b"From: a@x.com\nSubject: one\n\nfirst\n>From the escaped line\n\n"
    b"From MAILER-DAEMON Mon Apr 18 14:23:23 2022\n"
    b"From: b@x.com\nSubject: two\n\nsecond\n"
)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_iter_mbox__splits_on_envelope_lines_and_keeps_escapes(tmp_path: Path) -> None:
    mbox = _write(tmp_path / "inbox.mbox", _MBOX)
    mails = list(iter_mbox(mbox))
    assert [m.raw for m in mails] == [
        b"From: a@x.com\nSubject: one\n\nfirst\n>From the escaped line\n",
        b"From: b@x.com\nSubject: two\n\nsecond\n",
    ]
    second_offset = _MBOX.index(b"From MAILER", 1)
    assert [m.source_id for m in mails] == ["inbox.mbox:0", f"inbox.mbox:{second_offset}"]
    assert {m.folder for m in mails} == {"inbox"}
    assert count_messages(mbox) == 2


def test_iter_maildir__folders_and_unique_names(tmp_path: Path) -> None:
    msg = b"From: a@x.com\n\nhi\n"
    _write(tmp_path / "md" / "cur" / "1.M1P0.host,S=20:2,S", msg)
    _write(tmp_path / "md" / "new" / "2.M2P0.host", msg)
    _write(tmp_path / "md" / "tmp" / "3.M3P0.host", msg)
    _write(tmp_path / "md" / ".sent" / "cur" / "4.M4P0.host:2,S", msg)
    _write(tmp_path / "md" / ".a.b" / "new" / "5.M5P0.host", msg)
    found = {(m.folder, m.source_id) for m in iter_maildir(tmp_path / "md")}
    assert found == {
        ("inbox", "1.M1P0.host,S=20"),
        ("inbox", "2.M2P0.host"),
        ("sent", "4.M4P0.host"),
        ("a/b", "5.M5P0.host"),
    }
    assert count_messages(tmp_path / "md") == 4


def test_iter_source__mixed_tree(tmp_path: Path) -> None:
    _write(tmp_path / "box" / "archive.mbox", _MBOX)
    _write(
        tmp_path / "box" / "ham" / "0001.abc", b"From x@y Thu Aug 22 2002\nFrom: a@x.com\n\nhi\n"
    )
    _write(tmp_path / "box" / "ham" / "0002.def", b"Subject: s\n\nhi\n")
    _write(tmp_path / "box" / "ham" / "README", b"not mail at all\n")
    _write(tmp_path / "box" / "md" / "cur" / "9.M9P0.host:2,S", b"From: a@x.com\n\nhi\n")
    mails = list(iter_source(tmp_path / "box"))
    assert sorted(m.folder for m in mails) == ["archive", "archive", "ham", "ham", "inbox"]
    ham = [m for m in mails if m.folder == "ham"]
    assert ham[0].raw == b"From: a@x.com\n\nhi\n"  # envelope line dropped
    assert count_messages(tmp_path / "box") == 5


def test_iter_source__missing_or_empty_path_raises(tmp_path: Path) -> None:
    with pytest.raises(MailSourceError, match="not a mailbox"):
        iter_source(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    _write(tmp_path / "empty" / "notes.txt", b"just text\n")
    with pytest.raises(MailSourceError, match="not a mailbox"):
        iter_source(tmp_path / "empty")
    assert issubclass(MailSourceError, FluffyMailError)
