"""A sync cursor split into per-folder parts and put back together, and what a batch changes."""

from __future__ import annotations

from fluffymail.crm.mail import cursors


def test_split_join__round_trip_folders_and_the_connection_wide_part() -> None:
    imap = {"folders": {"INBOX": {"uidvalidity": 7, "last_uid": 42}, "Sent": {"last_uid": 3}}}
    gmail = {"history_id": "1235"}
    resuming = {"full_sync": {"history_id": "1", "page_token": "p"}}

    assert cursors.split(imap) == {
        "INBOX": {"uidvalidity": 7, "last_uid": 42},
        "Sent": {"last_uid": 3},
    }
    assert cursors.split(gmail) == {"": {"history_id": "1235"}}
    for cursor in (imap, gmail, resuming):
        assert cursors.join(cursors.split(cursor).items()) == cursor
    assert cursors.split(None) == {} and cursors.join([]) is None


def test_change__only_the_folders_that_moved_and_the_ones_gone() -> None:
    before = {"a": {"last": "1"}, "b": {"last": "9"}, "gone": {"last": "5"}}
    after = {"a": {"last": "2"}, "b": {"last": "9"}, "new": {"last": "1"}}

    change = cursors.change(before, after)

    assert change.upserts == {"a": {"last": "2"}, "new": {"last": "1"}}
    assert change.deletes == ("gone",)
    assert cursors.change(after, after).empty
