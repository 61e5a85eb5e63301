"""parse_message on hand-built messages: addresses, encodings, bodies, problems, speed."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from fluffymail.crm.messages import parse_message
from fluffymail.crm.messages.addresses import parse_address_list


def _mail(headers: str, body: str = "Hello.\n") -> bytes:
    return (headers.strip("\n") + "\n\n" + body).encode("utf-8")


def test_parse_message__plain_fields() -> None:
    msg = parse_message(
        _mail(
            """
Message-ID: < abc.123@host.example >
Date: Mon, 29 Oct 2001 16:34:23 -0800 (PST)
From: Phillip.Allen@Enron.com
To: a@x.com, B <b@y.com>
Cc: c@z.com
Subject: Re:   lunch
	tomorrow
References: <root@h> <mid@h>
In-Reply-To: <mid@h>
List-Id: Rpm List <rpm-list.freshrpms.net>
Precedence: bulk
""",
            "Hi   there,\r\n\r\nsee you.\r\n",
        )
    )
    assert msg.message_id == "abc.123@host.example"
    assert msg.from_ is not None and msg.from_.email == "phillip.allen@enron.com"
    assert msg.from_.raw == "Phillip.Allen@Enron.com"
    assert [a.email for a in msg.to] == ["a@x.com", "b@y.com"]
    assert msg.to[1].name == "B"
    assert msg.date == datetime(2001, 10, 30, 0, 34, 23, tzinfo=UTC)
    assert msg.subject == "Re: lunch tomorrow"
    assert msg.references == ("root@h", "mid@h")
    assert msg.in_reply_to == "mid@h"
    assert msg.list_id == "rpm-list.freshrpms.net"
    assert msg.precedence == "bulk"
    assert msg.body_text == "Hi   there,\n\nsee you.\n"
    assert msg.snippet == "Hi there, see you."
    assert msg.problems == ()
    assert msg.dedup_key == "abc.123@host.example"


def test_parse_message__rfc2047_names_and_subject_decode() -> None:
    msg = parse_message(
        _mail(
            """
From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>
To: =?iso-8859-1?q?Fran=E7ois?= <f@example.fr>, "Doe, John" <jd@example.com>
Subject: =?utf-8?b?0J/RgNC40LLQtdGC?= world
Date: Tue, 1 Jul 2003 10:52:37 +0200
Message-ID: <x@y>
"""
        )
    )
    assert msg.from_ is not None and msg.from_.name == "Jürgen Müller"
    assert [a.name for a in msg.to] == ["François", "Doe, John"]
    assert msg.subject == "Привет world"


def test_parse_message__raw_8bit_header_falls_back_to_cp1252() -> None:
    raw = b"From: Ren\xe9 <r@x.fr>\nSubject: caf\xe9\nDate: x\n\nbody\n"
    msg = parse_message(raw)
    assert msg.subject == "café"
    assert msg.from_ is not None and msg.from_.name == "René"
    assert "undecodable-header:subject" in msg.problems
    assert "bad-date:x" in msg.problems


@pytest.mark.timeout(60)  # a bound on hanging (a quadratic parse), not a speed assertion
def test_parse_message__ten_thousand_recipients() -> None:
    to = ", ".join(f"User {i} <user{i}@example.com>" for i in range(10_000))
    raw = _mail(f"From: a@b.com\nTo: {to}")
    msg = parse_message(raw)
    assert len(msg.to) == 10_000
    assert msg.to[9_999].email == "user9999@example.com"
    assert "huge-header:to" in msg.problems


@pytest.mark.timeout(60)  # a bound on hanging (a quadratic parse), not a speed assertion
def test_parse_message__ten_thousand_quoted_recipients_take_the_slow_path() -> None:
    to = ", ".join(f'"Last{i}, First" <user{i}@example.com>' for i in range(10_000))
    msg = parse_message(_mail(f"From: a@b.com\nTo: {to}"))
    assert len(msg.to) == 10_000
    assert msg.to[0].name == "Last0, First"


def test_parse_message__no_from() -> None:
    msg = parse_message(_mail("To: a@b.com\nSubject: hi"))
    assert msg.from_ is None
    assert "missing-header:from" in msg.problems
    assert "missing-header:message-id" in msg.problems
    assert msg.dedup_key == f"sha256:{msg.fingerprint}"
    assert len(msg.fingerprint) == 64


def test_parse_message__html_only_becomes_text() -> None:
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Dear&nbsp;Phillip,</p><div>The <b>gas</b> price is up.<br>Call me.</div>"
        "<script>alert(1)</script></body></html>"
    )
    msg = parse_message(_mail("From: a@b.com\nContent-Type: text/html; charset=utf-8", html))
    assert msg.body_text == "Dear Phillip,\nThe gas price is up.\nCall me."
    assert "color" not in msg.body_text and "alert" not in msg.body_text


def test_parse_message__multipart_prefers_plain_and_decodes_transfer_encodings() -> None:
    raw = _mail(
        'From: a@b.com\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="BB"',
        "--BB\nContent-Type: text/html\n\n<p>html</p>\n"
        "--BB\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe=\n aus Z=FCrich\n"
        "--BB\nContent-Type: text/calendar\nContent-Transfer-Encoding: base64\n\nQkVHSU4=\n"
        "--BB--\n",
    )
    msg = parse_message(raw)
    assert msg.body_text.startswith("Grüße aus Zürich")
    assert msg.content_type == "multipart/alternative"
    assert msg.has_calendar
    assert not msg.has_attachment  # an invitation is no attachment


def test_parse_message__attachments_by_disposition_or_file_name() -> None:
    def mixed(part: str) -> str:
        return f"--M\nContent-Type: text/plain\n\nSee attached.\n--M\n{part}\n\nQUJD\n--M--\n"

    head = 'From: a@b.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="M"'
    for part, expected in (
        ('Content-Type: application/pdf\nContent-Disposition: attachment; filename="a.pdf"', True),
        ('Content-Type: image/png; name="logo.png"\nContent-Disposition: inline', True),
        ("Content-Type: text/plain\nContent-Disposition: attachment", True),
        ("Content-Type: text/plain", False),  # a second text part: no file
    ):
        assert parse_message(_mail(head, mixed(part))).has_attachment is expected, part
    assert not parse_message(_mail("From: a@b.com", "Plain text.")).has_attachment
    single = parse_message(_mail("From: a@b.com\nContent-Type: application/pdf", "QUJD"))
    assert single.has_attachment  # a message that is one file


def test_parse_message__delivery_report() -> None:
    raw = _mail(
        "From: MAILER-DAEMON@x.com\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="R"',
        "--R\nContent-Type: text/plain\n\nDelivery failed.\n"
        "--R\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--R--\n",
    )
    msg = parse_message(raw)
    assert msg.is_delivery_report
    assert msg.body_text.startswith("Delivery failed.")


def test_parse_message__unknown_charset_falls_back() -> None:
    raw = b"From: a@b.com\nContent-Type: text/plain; charset=x-unknown\n\nna\xc3\xafve\n"
    msg = parse_message(raw)
    assert msg.body_text == "naïve\n"
    assert "bad-charset:x-unknown" in msg.problems


def test_parse_message__quoted_printable_debris_charset() -> None:
    raw = b'From: a@b.com\nContent-Type: text/plain; charset="3Dutf-8"\n\n\xe2\x82\xac 5\n'
    assert parse_message(raw).body_text == "€ 5\n"


def test_parse_message__huge_body_is_truncated() -> None:
    msg = parse_message(_mail("From: a@b.com", "x" * 2_000_000))
    assert len(msg.body_text) == 256 * 1024
    assert "body-truncated" in msg.problems


def test_parse_message__date_outliers_are_kept_and_y2k_years_fixed() -> None:
    old = parse_message(_mail("From: a@b.com\nDate: Tue, 1 Jan 1980 00:00:00 +0000"))
    assert old.date == datetime(1980, 1, 1, tzinfo=UTC)
    y2k = parse_message(_mail("From: a@b.com\nDate: Sat, 14 Sep 102 02:00:00 -0000"))
    assert y2k.date is not None and y2k.date.year == 2002


def test_parse_message__notes_and_exchange_addresses_are_invalid_but_named() -> None:
    problems: list[str] = []
    notes = parse_address_list("Phillip K Allen/HOU/ECT@ECT", "to", problems)
    exchange = parse_address_list(
        "Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>", "to", problems
    )
    assert [(a.name, a.valid) for a in notes] == [("Phillip K Allen", False)]
    assert [(a.name, a.valid) for a in exchange] == [("Allen, Phillip K.", False)]
    assert exchange[0].email == "/o=enron/ou=na/cn=recipients/cn=pallen"
    assert "bad-address:to" in problems


def test_parse_message__address_normalisation() -> None:
    (address,) = parse_address_list(" K..Allen@Enron.COM. ", "to", [])
    assert address.email == "k..allen@enron.com"
    assert address.valid
    assert address.raw == "K..Allen@Enron.COM."


def test_parse_message__duplicate_and_continuation_headers() -> None:
    raw = b" folded nothing\nSubject: one\nSubject: two\nFrom: a@b.com\n\nx\n"
    msg = parse_message(raw)
    assert msg.subject == "one"
    assert "duplicate-header:subject" in msg.problems
    assert "broken-mime:FirstHeaderLineIsContinuationDefect" in msg.problems


def test_parse_message__missing_separator_keeps_body() -> None:
    msg = parse_message(b"From: a@b.com\nSubject: s\nthis is body text\nmore\n")
    assert msg.subject == "s"
    assert msg.body_text.startswith("this is body text")
    assert "broken-mime:MissingHeaderBodySeparatorDefect" in msg.problems


def test_parse_message__garbage_never_raises() -> None:
    rng = random.Random(20260501)
    samples = [b"", b"\x00\xff" * 50, b"\n\n\n", b"From \n", b":\n:\n", "é".encode("utf-16")]
    samples += [rng.randbytes(rng.randrange(1, 3000)) for _ in range(300)]
    samples += [b"Content-Type: multipart/mixed; boundary=" + rng.randbytes(40) for _ in range(50)]
    for raw in samples:
        msg = parse_message(raw)
        assert msg.size == len(raw)
        assert len(msg.fingerprint) == 64


def test_parse_message__garbage_bytes_report_problems() -> None:
    msg = parse_message(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    assert msg.problems
    assert "missing-header:from" in msg.problems


def test_parse_message__worst_case_reports_parse_error() -> None:
    msg = parse_message("not bytes at all")  # type: ignore[arg-type]
    assert msg.problems == ("parse-error:TypeError",)


def test_parse_message__named_groups_recorded_members_still_recipients() -> None:
    msg = parse_message(
        _mail(
            """
From: boss@x.com
To: Board of Directors: Ann <ann@x.com>, "Lee, Bo" <Bo.Lee@Y.com>;, solo@z.com
Cc: =?utf-8?q?=C3=89quipe?=: c@z.com;, undisclosed-recipients:;
Bcc: Hidden:;
Subject: minutes
"""
        )
    )
    assert [a.email for a in msg.to] == ["ann@x.com", "bo.lee@y.com", "solo@z.com"]
    assert [a.email for a in msg.cc] == ["c@z.com"]
    assert [(g.header, g.name, g.members) for g in msg.groups] == [
        ("to", "Board of Directors", ("ann@x.com", "bo.lee@y.com")),
        ("cc", "Équipe", ("c@z.com",)),
    ]
    assert not any(p.startswith("bad-address") for p in msg.problems)


def test_parse_message__undisclosed_recipients_is_no_group() -> None:
    msg = parse_message(_mail("From: a@x.com\nTo: undisclosed-recipients:;\nSubject: s\n"))
    assert msg.to == () and msg.groups == ()
    plain = parse_message(_mail("From: a@x.com\nTo: a@x.com, b@y.com\nSubject: s\n"))
    assert plain.groups == ()
