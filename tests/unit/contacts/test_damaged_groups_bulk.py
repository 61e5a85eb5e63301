"""Issue 12, section 2 rules: damaged addresses, groups, bulk mail without List-* headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fluffymail.crm.contacts import addresses, extraction, groups
from fluffymail.crm.contacts.extraction import MessageInput, Participant, Policy, SelfSet
from fluffymail.crm.messages import bulk
from fluffymail.crm.messages.parse import parse_message


@pytest.mark.parametrize(
    ("raw", "email", "defect"),
    [
        (".williams@acme.com", ".williams@acme.com", "leading_dot"),
        ("legal <.hall@acme.com>", ".hall@acme.com", "leading_dot"),
        ("carol.st.@Acme.com", "carol.st.@acme.com", "trailing_dot"),
        ("k..allen@acme.com", "k..allen@acme.com", "doubled_dot"),
        ("jane.doe@acme.com", "jane.doe@acme.com", None),
    ],
)
def test_damaged__kept_as_written_with_its_defect(raw: str, email: str, defect: str) -> None:
    found = addresses.normalize_address(raw, keep_damaged=True)
    assert found is not None and (found.email, found.defect) == (email, defect)


def test_damaged__dropped_unless_asked_for_and_junk_always() -> None:
    assert addresses.normalize_address(".williams@acme.com") is None
    assert addresses.normalize_address("carol.st.@acme.com") is None
    for junk in (".@acme.com", "..@acme.com", ".a b@acme.com", ".x@"):
        assert addresses.normalize_address(junk, keep_damaged=True) is None


def test_legacy_names__split_by_entry_or_not_at_all() -> None:
    two = "Hall, Steve C. (Legal) </O=ACME/CN=SHALL4>, Belden, Tim </O=ACME/CN=TBELDEN>"
    assert addresses.split_legacy_names(two) == [
        "Hall, Steve C. (Legal) </O=ACME/CN=SHALL4>",
        "Belden, Tim </O=ACME/CN=TBELDEN>",
    ]
    assert addresses.split_legacy_names("Phillip K Allen, Tim Belden/HOU/ECT@ECT") == [
        "Phillip K Allen",
        "Tim Belden/HOU/ECT@ECT",
    ]
    assert addresses.split_legacy_names("Allen, Phillip") == []  # "Last, First": unsure
    assert addresses.split_legacy_names("Tim <x>, bob@acme.com") == []  # mixed: unsure


def _message(to: str, x_to: str, *, sender: str = "olive@owner.com") -> MessageInput:
    people = [Participant(role="from", address=sender)]
    people += [Participant(role="to", address=a.strip()) for a in to.split(",")]
    return MessageInput(
        id=1,
        user_id=1,
        date=datetime(2001, 1, 1, tzinfo=UTC),
        headers={},
        has_calendar=False,
        is_delivery_report=False,
        report_text=None,
        folders=("Sent",),
        policy=Policy.SENT,
        participants=tuple(people),
        legacy_names={"to": x_to},
    )


def test_extraction__damaged_recipient_linked_with_its_x_to_name_by_position() -> None:
    x_to = "Belden, Tim </O=ACME/CN=TBELDEN>, Hall, Steve C. (Legal) </O=ACME/CN=SHALL4>"
    plan = extraction.plan_message(
        _message("tim.belden@acme.com, .hall@acme.com", x_to), SelfSet.build("olive@owner.com", [])
    )
    names = {link.address: link.display_name for link in plan.links}
    assert names == {
        # a clean address without a name part of its own takes its entry too (issue 5 QA)
        "tim.belden@acme.com": "Belden, Tim </O=ACME/CN=TBELDEN>",
        ".hall@acme.com": "Hall, Steve C. (Legal) </O=ACME/CN=SHALL4>",
    }


def test_extraction__damaged_sender_is_a_sender() -> None:
    message = _message("olive@owner.com", "")
    message = MessageInput(
        **{
            **{f: getattr(message, f) for f in MessageInput.__dataclass_fields__},
            "participants": (
                Participant(role="from", address="carol.st.@acme.com"),
                Participant(role="to", address="olive@owner.com"),
            ),
            "folders": ("inbox",),
        }
    )
    plan = extraction.plan_message(message, SelfSet.build("olive@owner.com", []))
    assert plan.automated_reason is None
    assert [(k.address, k.role) for k in plan.links] == [("carol.st.@acme.com", "received_from")]


@pytest.mark.parametrize(
    ("address", "names", "reason"),
    [
        ("center.dl-portland@acme.com", [], groups.GroupReason.DL_ADDRESS),
        ("DL-Trading@acme.com", [], groups.GroupReason.DL_ADDRESS),
        ("west.desk.team@acme.com", [], groups.GroupReason.GROUP_WORD_ADDRESS),
        ("wdesk@acme.com", ["West Desk Team"], groups.GroupReason.GROUP_WORD_NAME),
        ("wdesk@acme.com", ["All Traders <wdesk@acme.com>"], groups.GroupReason.GROUP_WORD_NAME),
        ("jane.allison@acme.com", ["Jane Allison"], None),
        ("jane@acme.com", ["Jane Doe", "Portland West Desk"], None),  # one stray name
        ("jsteele@energy.com", ["Energy Group Colleague"], None),  # a company's "Group"
    ],
)
def test_groups__rules(address: str, names: list[str], reason: groups.GroupReason | None) -> None:
    assert groups.group_reason(address, names) == reason


def test_groups__an_address_like_the_users_own_is_not_a_fanout_group() -> None:
    mine = ["phillip.allen@acme.com"]
    assert groups.looks_like_owner("pallen@acme.com", mine)
    assert groups.looks_like_owner("mswerzb@acme.com", ["mike.swerzbin@acme.com"])
    assert not groups.looks_like_owner("westpower@acme.com", mine)


def test_bulk__platform_headers() -> None:
    assert bulk.header_signal(["From", "X-Mailgun-Sid"]) is bulk.BulkSignal.PLATFORM_HEADER
    assert bulk.header_signal(["Feedback-ID"]) is bulk.BulkSignal.PLATFORM_HEADER
    assert bulk.header_signal(["X-SG-EID", "To"]) is bulk.BulkSignal.PLATFORM_HEADER
    assert bulk.header_signal(["From", "To", "X-Mailer", "X-From"]) is None


def test_bulk__unsubscribe_line_at_the_end_not_in_a_quote_or_forward() -> None:
    news = "Today's deals...\n" * 20 + "\nTo unsubscribe, visit http://example.com/u"
    assert bulk.body_signal(news, html_only=False) is bulk.BulkSignal.BODY_UNSUBSCRIBE
    quoted = "Sure, see you then.\n\n-----Original Message-----\nFrom: x\n\n" + news
    assert bulk.body_signal(quoted, html_only=False) is None
    assert bulk.body_signal(news, html_only=False, subject="Fwd: deals") is None
    person = "Could you please remove me from this list?\nThanks"
    assert bulk.body_signal(person, html_only=False) is None
    early = "unsubscribe details below\n" + "a long personal letter\n" * 200
    assert bulk.body_signal(early, html_only=False) is None  # only the last lines count


def test_bulk__ascii_and_non_ascii_tails_find_the_same_phrases() -> None:
    # an ASCII tail is searched lower-cased; any other with the case-insensitive pattern
    for tail in ("To UNSUBSCRIBE reply", "Opt-Out here", "MANAGE YOUR SUBSCRIPTION", "unsub"):
        for text in (tail, "Grüße\n" + tail):
            found = bulk.body_signal(text, html_only=False)
            expected = bulk.BulkSignal.BODY_UNSUBSCRIBE if tail != "unsub" else None
            assert found is expected, text
    assert bulk.body_signal("options ahead\nbe removed", html_only=False) is None
    assert bulk.body_signal("ok\n> to be removed\nunsubscribe", html_only=False) is None
    quoted = (
        "> hi",
        "\n\n  Subject: x",
        "Bob WROTE:  ",
        "--- Forwarded by x",
        " begin FORWARDED message",
    )
    for quote in quoted:  # a quote before the line, on the first line or a later one
        for text in (
            f"{quote}\nunsubscribe",
            f"hi\n{quote}\nunsubscribe",
            f"é\n{quote}\nunsubscribe",
        ):
            assert bulk.body_signal(text, html_only=False) is None, text
        news = f"unsubscribe\n{quote}"  # a quote after it does not count
        assert bulk.body_signal(news, html_only=False) is bulk.BulkSignal.BODY_UNSUBSCRIBE


def test_bulk__html_only_body_flagged_by_the_parser() -> None:
    raw = (
        b"From: deals@shop.example\nTo: olive@owner.com\nSubject: sale\n"
        b"Date: Mon, 1 Jan 2001 10:00:00 +0000\nMessage-ID: <a@b>\n"
        b"Content-Type: text/html\n\n<p>Big sale</p>\n"
    )
    assert parse_message(raw).bulk_signal == "html_only"
    plain = raw.replace(b"text/html", b"text/plain").replace(b"<p>Big sale</p>", b"hi Olive")
    assert parse_message(plain).bulk_signal is None


def test_bulk__signal_reaches_extraction_as_the_automated_reason() -> None:
    message = _message("olive@owner.com", "", sender="deals@shop.example")
    message = MessageInput(
        **{
            **{f: getattr(message, f) for f in MessageInput.__dataclass_fields__},
            "folders": ("inbox",),
            "bulk_signal": "body_unsubscribe",
        }
    )
    plan = extraction.plan_message(message, SelfSet.build("olive@owner.com", []))
    assert plan.automated_reason == "body_unsubscribe" and plan.links == ()


def test_extraction__a_damaged_address_lowercase_name_part_is_a_fragment_not_a_name() -> None:
    message = _message("houston <.ward@acme.com>, bob@acme.com", "")
    message = MessageInput(
        **{
            **{f: getattr(message, f) for f in MessageInput.__dataclass_fields__},
            "participants": (
                Participant(role="from", address="olive@owner.com"),
                Participant(role="to", address=".ward@acme.com", display_name="houston"),
                Participant(role="to", address="bob@acme.com", display_name="Bob Stone"),
            ),
        }
    )
    plan = extraction.plan_message(message, SelfSet.build("olive@owner.com", []))
    assert {k.address: k.display_name for k in plan.links} == {
        ".ward@acme.com": "",
        "bob@acme.com": "Bob Stone",
    }


def test_groups__sole_recipient_of_mail_that_reached_the_user_unnamed() -> None:
    me = {"olive@owner.com"}
    to_list = [("from", "ann@acme.com"), ("to", "desk@acme.com")]
    assert groups.sole_recipient(to_list, me) == "desk@acme.com"
    assert groups.sole_recipient([*to_list, ("cc", "olive@owner.com")], me) is None
    assert groups.sole_recipient([*to_list, ("cc", "bob@acme.com")], me) is None
    assert groups.sole_recipient([("from", "olive@owner.com"), ("to", "bob@acme.com")], me) is None
