"""One person told apart only by address (issue 5/6 QA): names an address spells, handles,
middle initials, one local part at two companies; and X-header names found by position."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fluffymail.crm.contacts import extraction, identity, names
from fluffymail.crm.contacts.extraction import MessageInput, Participant, Policy, SelfSet
from fluffymail.crm.contacts.identity import AddressCandidate, PairReason

DANA = ("Dana", "Whitfield")


@pytest.mark.parametrize(
    ("local", "fits"),
    [
        ("danaw", True),  # first + last initial
        ("dwhitfield", True),  # initial + last
        ("danawhitfield", True),
        ("whitfieldd", True),
        ("whitfielddana", True),
        ("dwhitfi", True),  # initial + last cut by a mail system, 7 letters or more
        ("dwhitf", False),  # ... but not shorter
        ("whitfield", False),  # a family name alone fits the whole family
        ("dana", False),
        ("dana.whitfield", False),  # read as a name already (is_spelled_out)
        ("dwhitfield2", False),
        ("dw", False),
        ("rwhitfield", False),
    ],
)
def test_is_handle_of__handle_shapes(local: str, fits: bool) -> None:
    assert names.is_handle_of(local, *DANA) is fits


def test_is_handle_of__needs_a_real_given_and_family_name() -> None:
    assert not names.is_handle_of("dwhitfield", "D.", "Whitfield")
    assert not names.is_handle_of("danaw", "Dana", "")
    assert names.is_handle_of("mcoreilly", "Mary", "Co'Reilly")  # letters only


def test_is_spelled_out__two_whole_words_only() -> None:
    spelled = names.parse_display_name("", "dana.whitfield@acme.com")
    assert spelled is not None and names.is_spelled_out(spelled)
    for email in ("d..whitfield@acme.com", "dana.r.whitfield@acme.com"):
        assert not names.is_spelled_out(names.parse_display_name("", email))
    assert not names.is_spelled_out(names.parse_display_name("Dana Whitfield"))  # a display name
    assert not names.is_spelled_out(None)


@pytest.mark.parametrize(
    ("a", "b", "differ"),
    [
        ("Dana K. Whitfield", "Dana R Whitfield", True),
        ("Dana K. Whitfield", "Dana K Whitfield", False),
        ("Dana K. Whitfield", "Dana Whitfield", False),  # one without: may be either
        ("Dana Whitfield III", "Dana Whitfield", False),  # a suffix is no middle name
        ("Dana Kay Whitfield", "Dana K. Whitfield", False),
        ("", "Dana K. Whitfield", False),
    ],
)
def test_middles_differ(a: str, b: str, differ: bool) -> None:
    assert names.middles_differ(a, b) is differ


def test_clean_display_name__department_code_inside_quotes() -> None:
    found = names.parse_display_name(
        '"Whitfield, Dana K. - TX7DKW" <DWhitfield@acme.com>@ACME', "dwhitfield@acme.com"
    )
    assert found is not None and found.full == "Dana K. Whitfield"


def _c(contact_id: int, address: str, name: str = "", quality: int = 0) -> AddressCandidate:
    parsed = names.parse_display_name(name) if name else None
    return AddressCandidate(
        contact_id=contact_id,
        address=address,
        name=parsed.full if parsed else name,
        first=parsed.first if parsed else "",
        last=parsed.last if parsed else "",
        quality=quality if quality else (int(parsed.quality) if parsed else 0),
    )


def _pairs(*found: AddressCandidate, hosts: tuple[str, ...] = ("acme.com",)) -> list:
    return identity.address_pairs(found, handle_hosts=hosts)


def test_address_pairs__a_nameless_handle_joins_the_one_name_it_fits() -> None:
    named = _c(1, "dana_whitfield@acme.com", "Dana Whitfield")
    assert _pairs(named, _c(2, "danaw@acme.com"), _c(3, "dwhitfield@acme.com")) == [
        (1, 2, PairReason.HANDLE),
        (1, 3, PairReason.HANDLE),
    ]
    assert _pairs(named, _c(2, "danaw@other-co.com")) == []  # another host
    assert _pairs(named, _c(2, "danaw@acme.com"), hosts=()) == []  # not a handle host


def test_address_pairs__two_names_that_fit_give_nothing() -> None:
    found = (
        _c(1, "dana.whitfield@acme.com", "Dana Whitfield"),
        _c(2, "dave.whitfield@acme.com", "Dave Whitfield"),
        _c(3, "dwhitfield@acme.com"),
    )
    assert _pairs(*found) == []


def test_address_pairs__a_one_word_name_must_be_one_of_the_name() -> None:
    named = _c(1, "dana_whitfield@acme.com", "Dana Whitfield")
    assert _pairs(named, _c(2, "danaw@acme.com", "Dana")) == [(1, 2, PairReason.HANDLE)]
    assert _pairs(named, _c(2, "danaw@acme.com", "Robin")) == []


def test_address_pairs__free_mail_and_named_handles_are_no_evidence() -> None:
    free = (_c(1, "dana.whitfield@gmail.com", "Dana Whitfield"), _c(2, "danaw@gmail.com"))
    assert _pairs(*free, hosts=("gmail.com",)) == []
    # a handle with a full name of its own is someone: the name key decides, not the handle
    named = (
        _c(1, "dana_whitfield@acme.com", "Dana Whitfield"),
        _c(2, "danaw@acme.com", "Dan Wu"),
    )
    assert _pairs(*named) == []


def test_address_pairs__one_local_part_and_name_at_two_companies() -> None:
    old = _c(1, "dwhitfie@acme.com", "Dana Whitfield")
    new = _c(2, "dwhitfie@acmeenergy.com", "Dana K. Whitfield")
    assert _pairs(old, new, hosts=()) == [(1, 2, PairReason.LOCAL_PART)]
    spelled = (
        _c(1, "dana.whitfield@acme.com", "Dana Whitfield"),
        _c(2, "dana.whitfield@acmeenergy.com", "Whitfield, Dana"),
    )
    assert _pairs(*spelled, hosts=()) == [(1, 2, PairReason.LOCAL_PART)]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # free mail: anyone may hold dana.whitfield@ there
        (("dana.whitfield@acme.com", "Dana Whitfield"), ("dana.whitfield@gmail.com", "Dana Whitfield")),
        # the local part is not made of the name
        (("sales7@acme.com", "Dana Whitfield"), ("sales7@acmeenergy.com", "Dana Whitfield")),
        (("trader@acme.com", "Dana Whitfield"), ("trader@acmeenergy.com", "Dana Whitfield")),
        # another name, or other middle initials
        (("dwhitfie@acme.com", "Dana Whitfield"), ("dwhitfie@acmeenergy.com", "Dave Whitfield")),
        (("dwhitfie@acme.com", "Dana K Whitfield"), ("dwhitfie@acmeenergy.com", "Dana R Whitfield")),
        # one company (the name key merges those)
        (("dwhitfie@acme.com", "Dana Whitfield"), ("dwhitfie@mail.acme.com", "Dana Whitfield")),
    ],
)  # fmt: skip
def test_address_pairs__what_is_not_one_person(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert _pairs(_c(1, *a), _c(2, *b), hosts=()) == []


def _message(to: str, x_to: str) -> MessageInput:
    people = [Participant(role="from", address="olive@owner-co.com")]
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


def test_extraction__bare_recipients_named_from_x_to_by_position() -> None:
    x_to = "Whitfield, Dana K. </O=ACME/CN=DWHITFI>, Rao, Sam </O=ACME/CN=SRAO>"
    plan = extraction.plan_message(
        _message("k..whitfield@acme.com, sam.rao@acme.com", x_to),
        SelfSet.build("olive@owner-co.com", []),
    )
    assert {k.address: k.display_name for k in plan.links} == {
        "k..whitfield@acme.com": "Whitfield, Dana K. </O=ACME/CN=DWHITFI>",
        "sam.rao@acme.com": "Rao, Sam </O=ACME/CN=SRAO>",
    }


def test_extraction__x_to_not_used_when_the_counts_disagree() -> None:
    x_to = "Whitfield, Dana K. </O=ACME/CN=DWHITFI>"  # one entry for two addresses
    plan = extraction.plan_message(
        _message("k..whitfield@acme.com, sam.rao@acme.com", x_to),
        SelfSet.build("olive@owner-co.com", []),
    )
    assert {k.display_name for k in plan.links} == {""}
