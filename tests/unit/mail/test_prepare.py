"""prepare: a parsed message becomes plain, PostgreSQL-safe rows."""

from __future__ import annotations

import pickle

from fluffymail.crm.mail.models import IncomingMessage
from fluffymail.crm.mail.prepare import MESSAGE_COLUMNS, PreparedMessage, clean, prepare
from fluffymail.crm.messages import parse_message


def _incoming(raw: bytes, *, thread_id: str | None = None) -> IncomingMessage:
    return IncomingMessage(
        folder="inbox",
        source_id="a.mbox:0",
        parsed=parse_message(raw),
        provider_thread_id=thread_id,
    )


def test_prepare__rows_in_column_order_with_participants_and_thread_keys() -> None:
    raw = (
        b"From: Ann Lee <ann@x.com>\nTo: bob@y.com, Cy <cy@z.com>\nCc: dee@w.com\n"
        b"Subject: Re: plans\nMessage-ID: <m1@x>\nReferences: <r0@x>\n"
        b"Date: Mon, 1 Jan 2001 10:00:00 +0000\n\nSee you.\n"
    )
    prepared = prepare(_incoming(raw, thread_id="T9"))

    row = dict(zip(MESSAGE_COLUMNS, prepared.row, strict=True))
    assert row["dedup_key"] == prepared.dedup_key and row["dedup_key"].startswith("fp:")
    assert (row["message_id"], row["from_address"], row["from_name"]) == (
        "m1@x",
        "ann@x.com",
        "Ann Lee",
    )
    assert row["subject"] == prepared.subject == "Re: plans"
    assert row["references"] == ["r0@x"] and row["date"] == prepared.date
    assert row["recipients"] == "bob@y.com Cy cy@z.com dee@w.com"  # searched (0025)
    assert row["has_attachment"] is False
    assert prepared.thread_keys == ("prov:T9", "ref:r0@x", "ref:m1@x")
    assert prepared.participants == (
        ("from", 0, "ann@x.com", "Ann Lee", True),
        ("to", 0, "bob@y.com", "", True),
        ("to", 1, "cy@z.com", "Cy", True),
        ("cc", 0, "dee@w.com", "", True),
    )
    assert pickle.loads(pickle.dumps(prepared)) == prepared  # crosses from the parser process


def test_prepare__nul_and_undecodable_bytes_never_reach_postgresql() -> None:
    raw = (
        b"From: \xff\xfeBad <bad@x.com>\nTo: ok@y.com\nSubject: nul\x00 and \xe9t\xe9\n"
        b"X-From: Gr\xfcn\n\nbody with \x00 nul\n"
    )
    prepared = prepare(_incoming(raw))

    texts = [prepared.subject, *prepared.thread_keys, *prepared.problems]
    texts += [v for v in prepared.row if isinstance(v, str)]
    texts += [t for p in prepared.participants for t in p if isinstance(t, str)]
    extra = dict(zip(MESSAGE_COLUMNS, prepared.row, strict=True))["extra_headers"] or {}
    texts += list(extra.values())
    for text in texts:
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates


def test_clean__drops_nul_and_replaces_lone_surrogates_only() -> None:
    assert clean("a\x00b") == "ab"
    assert clean("caf\udce9") == "caf?"
    assert clean("café ☕") == "café ☕"
    plain = "plain ascii"
    assert clean(plain) is plain


def test_prepared_message__is_a_plain_tuple() -> None:
    assert issubclass(PreparedMessage, tuple)
