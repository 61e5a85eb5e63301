"""ImapSource against a real Dovecot: initial and incremental sync, UIDVALIDITY, expunge, auth."""

from __future__ import annotations

import email
from collections.abc import Callable

import pytest

from fluffymail.integrations.mail.imap import ImapSource
from fluffymail.integrations.mail.source import AuthError, Cursor, SourcePage

from .conftest import PASSWORD, Dovecot

Seed = Callable[[str, str, list[bytes]], None]


async def sync(source: ImapSource, cursor: Cursor | None) -> tuple[list[SourcePage], Cursor | None]:
    pages = [page async for page in source.pages(cursor)]
    return pages, (pages[-1].cursor if pages else cursor)


def message_ids(pages: list[SourcePage], folder: str | None = None) -> list[str]:
    return [
        str(email.message_from_bytes(mail.raw)["Message-ID"]).strip()
        for page in pages
        if folder is None or page.folder == folder
        for mail in page.mails
    ]


def ids_of(messages: list[bytes]) -> list[str]:
    return [str(email.message_from_bytes(m)["Message-ID"]).strip() for m in messages]


async def test_initial_sync__yields_every_message_and_skips_drafts_trash_junk(
    dovecot: Dovecot, imap_user: str, seed: Seed, enron_messages: list[bytes]
) -> None:
    seed(imap_user, "INBOX", enron_messages[:5])
    seed(imap_user, "Projects/Enron", enron_messages[5:8])
    for skipped in ("Drafts", "Trash", "Junk", "Spam", "Papierkorb"):
        seed(imap_user, skipped, enron_messages[8:9])

    pages, cursor = await sync(
        ImapSource(dovecot.config(imap_user, page_size=2), policy=dovecot.policy), None
    )

    assert sorted(message_ids(pages)) == sorted(ids_of(enron_messages[:8]))
    assert {p.folder for p in pages} == {"INBOX", "Projects/Enron"}
    assert [len(p.mails) for p in pages if p.folder == "INBOX"] == [2, 2, 1]
    assert cursor is not None
    assert cursor["folders"]["INBOX"]["last_uid"] == 5
    assert cursor["folders"]["INBOX"]["highestmodseq"]  # Dovecot offers CONDSTORE
    assert set(cursor["folders"]) == {"INBOX", "Projects/Enron"}
    mail = pages[0].mails[0]
    assert mail.uid == 1 and mail.source_id == f"{cursor['folders'][mail.folder]['uidvalidity']}:1"


async def test_cursor__advances_only_past_yielded_pages(
    dovecot: Dovecot, imap_user: str, seed: Seed, enron_messages: list[bytes]
) -> None:
    seed(imap_user, "INBOX", enron_messages[:5])
    source = ImapSource(dovecot.config(imap_user, page_size=2), policy=dovecot.policy)
    first_page = await anext(aiter(source.pages(None)))  # "crash" after storing one page

    rest, _ = await sync(source, first_page.cursor)

    assert message_ids([first_page]) == ids_of(enron_messages[:2])
    assert message_ids(rest, "INBOX") == ids_of(enron_messages[2:5])


async def test_incremental_sync__picks_up_only_the_appended_message(
    dovecot: Dovecot, imap_user: str, seed: Seed, enron_messages: list[bytes]
) -> None:
    seed(imap_user, "INBOX", enron_messages[:4])
    source = ImapSource(dovecot.config(imap_user), policy=dovecot.policy)
    _, cursor = await sync(source, None)
    unchanged, _ = await sync(source, cursor)

    seed(imap_user, "INBOX", enron_messages[10:11])
    pages, cursor = await sync(source, cursor)

    assert unchanged == []
    assert message_ids(pages) == ids_of(enron_messages[10:11])
    assert [m.uid for p in pages for m in p.mails] == [5]
    assert cursor is not None and cursor["folders"]["INBOX"]["last_uid"] == 5


async def test_uidvalidity_change__resyncs_that_folder_from_scratch(
    dovecot: Dovecot, imap_user: str, seed: Seed, enron_messages: list[bytes]
) -> None:
    seed(imap_user, "INBOX", enron_messages[:2])
    seed(imap_user, "Archive", enron_messages[2:5])
    source = ImapSource(dovecot.config(imap_user), policy=dovecot.policy)
    _, cursor = await sync(source, None)
    assert cursor is not None
    old_validity = cursor["folders"]["Archive"]["uidvalidity"]

    with dovecot.client(imap_user) as client:
        client.delete_folder("Archive")
    seed(imap_user, "Archive", enron_messages[2:4])
    pages, cursor = await sync(source, cursor)

    assert cursor is not None
    assert cursor["folders"]["Archive"]["uidvalidity"] != old_validity
    assert {p.folder for p in pages} == {"Archive"}
    assert pages[0].resync is True
    assert message_ids(pages) == ids_of(enron_messages[2:4])
    assert pages[0].present_ids == {
        f"{cursor['folders']['Archive']['uidvalidity']}:{u}" for u in (1, 2)
    }


async def test_expunged_message__is_missing_from_present_ids(
    dovecot: Dovecot, imap_user: str, seed: Seed, enron_messages: list[bytes]
) -> None:
    seed(imap_user, "INBOX", enron_messages[:4])
    source = ImapSource(dovecot.config(imap_user), policy=dovecot.policy)
    first, cursor = await sync(source, None)
    validity = cursor["folders"]["INBOX"]["uidvalidity"] if cursor else None
    assert first[0].present_ids == {f"{validity}:{u}" for u in (1, 2, 3, 4)}

    with dovecot.client(imap_user) as client:
        client.select_folder("INBOX")
        client.delete_messages([2])
        client.expunge()
    pages, _ = await sync(source, cursor)

    assert [(p.folder, p.mails) for p in pages] == [("INBOX", ())]
    assert pages[0].present_ids == {f"{validity}:{u}" for u in (1, 3, 4)}


async def test_deleted_folder__is_reported_as_emptied(
    dovecot: Dovecot, imap_user: str, seed: Seed, enron_messages: list[bytes]
) -> None:
    seed(imap_user, "Old", enron_messages[:1])
    source = ImapSource(dovecot.config(imap_user), policy=dovecot.policy)
    _, cursor = await sync(source, None)

    with dovecot.client(imap_user) as client:
        client.delete_folder("Old")
    pages, cursor = await sync(source, cursor)

    assert [(p.folder, p.present_ids) for p in pages] == [("Old", frozenset())]
    assert cursor is not None and "Old" not in cursor["folders"]


async def test_wrong_password__raises_auth_error_with_a_clear_reason(
    dovecot: Dovecot, imap_user: str
) -> None:
    source = ImapSource(dovecot.config(imap_user, password="wrong-password"), policy=dovecot.policy)

    with pytest.raises(AuthError) as caught:
        await sync(source, None)

    assert "login refused" in caught.value.reason
    assert imap_user in caught.value.reason
    assert "Authentication failed" in caught.value.reason
    assert "wrong-password" not in str(caught.value) and PASSWORD not in str(caught.value)


async def test_explicit_folders__override_the_default_skips(
    dovecot: Dovecot, imap_user: str, seed: Seed, enron_messages: list[bytes]
) -> None:
    seed(imap_user, "INBOX", enron_messages[:1])
    seed(imap_user, "Junk", enron_messages[1:2])

    pages, _ = await sync(
        ImapSource(dovecot.config(imap_user, folders=("Junk",)), policy=dovecot.policy), None
    )

    assert message_ids(pages) == ids_of(enron_messages[1:2])
