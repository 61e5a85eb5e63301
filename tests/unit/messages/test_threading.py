"""thread_key: provider ids, references, then subject + unordered participants."""

from __future__ import annotations

from fluffymail.crm.messages import parse_message, thread_key
from fluffymail.crm.messages.threading import normalize_subject, thread_aliases, thread_keys


def _msg(headers: str) -> bytes:
    return (headers.strip() + "\n\nbody\n").encode()


def test_normalize_subject__strips_prefixes_and_tags_repeatedly() -> None:
    assert normalize_subject("RE: Fwd: FW:  [rpm-list] AW: Antw: TR:  Gas   Prices") == "gas prices"
    assert normalize_subject("Re[2]: hello") == "hello"
    assert normalize_subject("Reply needed") == "reply needed"


def test_thread_key__reply_from_the_other_side_matches_original() -> None:
    original = parse_message(_msg("From: a@x.com\nTo: b@y.com\nSubject: foo"))
    reply = parse_message(_msg("From: B@y.com\nTo: a@x.com\nSubject: RE: Foo"))
    other = parse_message(_msg("From: c@z.com\nTo: a@x.com\nSubject: RE: foo"))
    assert thread_key(reply) == thread_key(original)
    assert thread_key(other) != thread_key(original)
    assert thread_key(original).startswith("subj:") and len(thread_key(original)) == 21


def test_thread_key__references_root_wins_over_subject() -> None:
    msg = parse_message(
        _msg("From: a@x.com\nSubject: Re: x\nReferences: <root@h> <b@h>\nIn-Reply-To: <b@h>")
    )
    assert thread_key(msg) == "ref:root@h"
    only_irt = parse_message(_msg("From: a@x.com\nIn-Reply-To: <b@h>"))
    assert thread_key(only_irt) == "ref:b@h"


def test_thread_key__provider_id_wins() -> None:
    msg = parse_message(_msg("From: a@x.com\nX-GM-THRID: 1234\nReferences: <r@h>"))
    assert thread_key(msg) == "prov:1234"
    assert thread_key(msg, provider_thread_id="abc") == "prov:abc"


def test_thread_aliases__root_is_findable_by_its_message_id() -> None:
    root = parse_message(_msg("From: a@x.com\nMessage-ID: <root@h>\nSubject: s"))
    reply = parse_message(_msg("From: b@x.com\nReferences: <root@h>\nSubject: Re: s"))
    assert thread_key(reply) in thread_aliases(root)


def test_thread_keys__the_primary_key_then_the_aliases_once_each() -> None:
    root = parse_message(_msg("From: a@x.com\nTo: b@y.com\nSubject: foo\nMessage-ID: <r@h>"))
    reply = parse_message(_msg("From: b@y.com\nSubject: Re: foo\nReferences: <r@h>"))
    gmail = parse_message(_msg("From: a@x.com\nX-GM-THRID: 77\nMessage-ID: <g@h>"))
    for msg in (root, reply, gmail):
        for provider in (None, "", "t1", " t2 "):
            primary = thread_key(msg, provider_thread_id=provider)
            expected = tuple(dict.fromkeys((primary, *thread_aliases(msg))))
            assert thread_keys(msg, provider_thread_id=provider) == expected
    assert thread_keys(root) == (thread_key(root), "ref:r@h")
    assert thread_keys(reply) == ("ref:r@h",)
    assert thread_keys(gmail, provider_thread_id="t1") == ("prov:t1", "prov:77", "ref:g@h")
