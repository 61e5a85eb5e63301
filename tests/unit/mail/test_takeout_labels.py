"""Google Takeout: mail Gmail sync would skip (Spam, Trash, Drafts, Chat, categories) is skipped
from an mbox export too, counted, and never read again; `skip_labels=()` keeps everything."""

from __future__ import annotations

from pathlib import Path

from fluffymail.integrations.mail.file_source import FileSource, gmail_labels
from fluffymail.integrations.mail.source import SourcePage


def takeout(n: int, labels: str) -> bytes:
    return (
        f"From 1234@xxx Mon Jan 01 10:00:00 +0000 2024\nX-GM-THRID: {n}\n"
        f"X-Gmail-Labels: {labels}\nFrom: a{n}@x.com\nTo: me@y.com\nSubject: m{n}\n"
        f"Message-ID: <t{n}@x>\n\nbody {n}\n\n"
    ).encode()


def write(path: Path, labels: list[str]) -> Path:
    path.write_bytes(b"".join(takeout(n, label) for n, label in enumerate(labels)))
    return path


async def pages(source: FileSource, cursor: dict | None = None) -> list[SourcePage]:
    return [page async for page in source.pages(cursor)]


def subjects(found: list[SourcePage]) -> list[str]:
    return [m.raw.split(b"Subject: ")[1].split(b"\n")[0].decode() for p in found for m in p.mails]


def test_gmail_labels__csv_folded_and_crlf_headers_only() -> None:
    assert gmail_labels(b'X-Gmail-Labels: Inbox,"A, b",Spam\n\n') == {"inbox", "a, b", "spam"}
    assert gmail_labels(b"Subject: s\r\nX-Gmail-Labels: Category Updates,\r\n Opened\r\n\r\n") == {
        "category updates",
        "opened",
    }
    assert gmail_labels(b"Subject: s\n\nX-Gmail-Labels: Spam\n") == frozenset()


async def test_takeout__skipped_labels_are_counted_and_not_read_again(tmp_path: Path) -> None:
    mbox = write(
        tmp_path / "All mail Including Spam and Trash.mbox",
        ["Inbox,Opened", "Spam,Unread", "Sent", "Trash,Spam", "Category Promotions", "Chat"],
    )
    source = FileSource(mbox, page_size=2)

    found = await pages(source)

    assert subjects(found) == ["m0", "m2"]
    assert source.skipped_by_label == {"spam": 2, "category promotions": 1, "chat": 1}
    assert found[-1].mails == () and found[-1].remaining == 0  # the tail advances the cursor
    again = FileSource(mbox)
    assert await pages(again, found[-1].cursor) == [] and not again.skipped_by_label


async def test_takeout__skip_labels_empty_imports_everything(tmp_path: Path) -> None:
    mbox = write(tmp_path / "takeout.mbox", ["Inbox", "Spam", "Trash", "Drafts"])
    assert subjects(await pages(FileSource(mbox, skip_labels=()))) == ["m0", "m1", "m2", "m3"]
