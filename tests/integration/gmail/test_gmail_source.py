"""GmailSource with the real google client against the local emulator."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing

import pytest

from fluffymail.integrations.mail.gmail import GmailSource
from fluffymail.integrations.mail.source import AuthError, Cursor, SourcePage

from .conftest import Sleeps
from .emulator import GmailEmulator

MakeSource = Callable[..., GmailSource]


async def sync(
    source: GmailSource, cursor: Cursor | None
) -> tuple[list[SourcePage], Cursor | None]:
    pages = [page async for page in source.pages(cursor)]
    return pages, (pages[-1].cursor if pages else cursor)


def gmail_ids(pages: list[SourcePage]) -> list[str]:
    return [mail.gmail_id or "" for page in pages for mail in page.mails]


def seed(
    emulator: GmailEmulator, messages: list[bytes], labels: tuple[str, ...] = ("INBOX",)
) -> list[str]:
    return [emulator.add_message(raw, labels) for raw in messages]


async def test_full_sync__pages_newest_first_in_batches_and_records_history_id(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    ids = seed(emulator, enron_messages[:230])
    seed(emulator, enron_messages[230:233], ("SPAM",))
    seed(emulator, enron_messages[233:235], ("INBOX", "CATEGORY_PROMOTIONS"))
    source = make_source(batch_size=40)

    pages, cursor = await sync(source, None)

    assert [len(p.mails) for p in pages] == [100, 100, 30, 0]
    assert gmail_ids(pages) == list(reversed(ids))
    assert pages[-1].present_ids == frozenset(ids), "listed from the start: what it kept"
    assert [p.present_ids for p in pages[:-1]] == [None] * 3
    assert cursor == {"history_id": "1235"}
    assert pages[0].cursor == {"full_sync": {"history_id": "1235", "page_token": "100"}}
    assert emulator.batches == 7  # 3 + 3 + 1 batches of at most 40
    mail = pages[0].mails[0]
    assert mail.raw == enron_messages[229] and mail.labels == ("INBOX",) and mail.thread_id
    assert mail.source_id == mail.gmail_id and mail.folder == "all"


async def test_full_sync__resumes_from_a_mid_sync_cursor(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    ids = seed(emulator, enron_messages[:150])
    source = make_source()
    async with aclosing(source.pages(None)) as pages:  # crash after storing one page
        first = await anext(pages)

    rest, cursor = await sync(source, first.cursor)

    assert gmail_ids([first, *rest]) == list(reversed(ids))
    assert cursor == {"history_id": "1150"}
    assert all(p.present_ids is None for p in rest), "a resumed listing saw only a part"


async def test_incremental_sync__reads_history_after_adding_messages(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    old = seed(emulator, enron_messages[:20])
    source = make_source()
    _, cursor = await sync(source, None)

    new = seed(emulator, enron_messages[20:25])
    seed(emulator, enron_messages[25:26], ("SPAM",))
    emulator.delete_message(old[0])
    calls_before = dict(emulator.calls)
    pages, cursor = await sync(source, cursor)

    assert gmail_ids(pages) == new
    assert [d for p in pages for d in p.deleted_ids] == [old[0]]
    assert cursor == {"history_id": str(emulator.history_id)}
    assert emulator.calls.get("messages.list") == calls_before.get("messages.list")
    again, _ = await sync(source, cursor)
    assert gmail_ids(again) == []


async def test_history_too_old__falls_back_to_a_full_sync_without_duplicates(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    ids = seed(emulator, enron_messages[:120])
    source = make_source()
    first, cursor = await sync(source, None)
    ids += seed(emulator, enron_messages[120:125])
    emulator.expire_history()

    pages, cursor = await sync(source, cursor)

    resynced = gmail_ids(pages)
    assert sorted(resynced) == sorted(ids) and len(set(resynced)) == len(resynced)
    assert set(gmail_ids(first) + resynced) == set(ids)
    assert cursor == {"history_id": str(emulator.history_id)}


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "rateLimitExceeded"), (403, "userRateLimitExceeded")]
)
async def test_throttling__backs_off_honouring_retry_after_then_succeeds(
    emulator: GmailEmulator, make_source: MakeSource, sleeps: Sleeps,
    enron_messages: list[bytes], status: int, reason: str,
) -> None:  # fmt: skip
    ids = seed(emulator, enron_messages[:30])
    for method, count in (("getProfile", 1), ("messages.list", 1), ("messages.get", 2)):
        emulator.inject(count, status=status, reason=reason, retry_after=3, method=method)

    pages, _ = await sync(make_source(), None)

    assert gmail_ids(pages) == list(reversed(ids))
    assert sleeps.delays == [3, 3, 3]
    assert emulator.batches == 2  # the two throttled gets were retried in a second batch


async def test_throttling__gives_up_with_a_transient_error_after_max_retries(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    from fluffymail.integrations.mail.source import TransientSourceError

    seed(emulator, enron_messages[:3])
    emulator.inject(10, retry_after=5)

    with pytest.raises(TransientSourceError) as caught:
        await sync(make_source(max_retries=2), None)

    assert caught.value.retry_after == 5


async def test_expired_token__is_refreshed_and_reported(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    ids = seed(emulator, enron_messages[:5])
    source = make_source(expired=True)
    stale = source.token.access_token
    emulator.expire_access_tokens()

    pages, _ = await sync(source, None)

    assert gmail_ids(pages) == list(reversed(ids))
    assert emulator.refreshes == 1
    assert (
        source.token.access_token != stale and source.token.access_token in emulator.access_tokens
    )


async def test_access_token_rejected_mid_sync__refreshes_on_401(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    ids = seed(emulator, enron_messages[:5])
    source = make_source()
    emulator.expire_access_tokens()  # the client still believes its token is valid

    pages, _ = await sync(source, None)

    assert gmail_ids(pages) == list(reversed(ids)) and emulator.refreshes == 1


async def test_revoked_token__raises_auth_error_needing_reauth(
    emulator: GmailEmulator, make_source: MakeSource, enron_messages: list[bytes]
) -> None:
    seed(emulator, enron_messages[:2])
    source = make_source(expired=True)
    emulator.revoke(source.token.refresh_token)

    with pytest.raises(AuthError) as caught:
        await sync(source, None)

    assert "invalid_grant" in caught.value.reason
    assert source.token.refresh_token not in str(caught.value)
    assert emulator.refreshes == 1  # not retried
