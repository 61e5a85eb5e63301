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


def test_address_pairs__a_contacts_outcome_depends_only_on_its_own_addresses() -> None:
    # the handle fits Dana at acme.com and Dave at beta-co.com: its first address decides,
    # whoever else is read (the caller reads only the people who can pair)
    found = [
        _c(2, "dana.whitfield@acme.com", "Dana Whitfield"),
        _c(3, "dave.whitfield@beta-co.com", "Dave Whitfield"),
        _c(4, "dwhitfield@beta-co.com"),
        _c(4, "dwhitfield@acme.com"),
    ]
    hosts = ("acme.com", "beta-co.com")
    assert _pairs(*found, hosts=hosts) == [(2, 4, PairReason.HANDLE)]
    someone = _c(1, "robin.roe@beta-co.com", "Robin Roe")
    assert _pairs(someone, *found, hosts=hosts) == [(2, 4, PairReason.HANDLE)]


def _name_key(name: str, other: str) -> str:
    """`crm.name_key` for ASCII names: 6 letters of the one, the other's initial."""
    letters = ["".join(c for c in part.lower() if c.isalpha()) for part in (name, other)]
    return f"{letters[0][:6]} {letters[1][:1]}"


@pytest.mark.parametrize(
    ("first", "last"),
    [("Dana", "Whitfield"), ("Mary", "Co'Reilly"), ("Jo", "Li"), ("Al", "Barr"),
     ("Anne-Marie", "Du Pont"), ("Bo", "Whitfield-Smith")],
)  # fmt: skip
def test_handle_name_keys__every_name_a_handle_fits_is_looked_up(first: str, last: str) -> None:
    handles = names.handles_of(first, last)
    assert handles
    for handle in handles:
        keys = identity.handle_name_keys(handle)
        families = {_name_key(f, g) for f, g in keys.families}
        givens = {_name_key(g, f) for g, f in keys.givens}
        assert _name_key(last, first) in families or _name_key(first, last) in givens, handle


def test_handle_name_keys__a_handle_fixes_a_name_and_the_other_initial() -> None:
    keys = identity.handle_name_keys("danaw")
    assert keys.givens == {("dana", "w")}
    assert ("anaw", "d") in keys.families and ("dan", "aw") in keys.families
    assert identity.handle_name_keys("dana") and not identity.handle_name_keys("dan")


def test_pairing_keys_and_handle_addresses__what_a_batch_looks_up() -> None:
    named = _c(1, "dana_whitfield@acme.com", "Dana Whitfield")
    bare = _c(2, "dwhitfi@acme.com")
    free = _c(3, "danaw@gmail.com")
    hosts = ("acme.com", "gmail.com")
    keys = identity.pairing_keys([named, bare, free], hosts)
    assert keys.full == {("Dana", "Whitfield")}  # its namesakes: one local part, two companies
    assert keys.families == identity.handle_name_keys("dwhitfi").families  # not free mail's
    addresses = identity.handle_addresses([named, bare, free], hosts)
    assert "danaw@acme.com" in addresses and "dwhitfi@acme.com" in addresses
    assert {a.rpartition("@")[2] for a in addresses} == {"acme.com"}
    assert identity.handle_addresses([named], ()) == []  # not a handle host


def _p(contact_id: int, name: str) -> identity.NamedPerson:
    parsed = names.parse_display_name(name)
    assert parsed is not None
    return identity.NamedPerson(
        contact_id=contact_id,
        name=parsed.full,
        first=parsed.first,
        last=parsed.last,
        quality=int(parsed.quality),
    )


OWNER_NAME = names.parse_display_name("Olive Owner")


def test_namesake_pairs__the_only_two_people_of_a_name() -> None:
    work, home = _p(7, "Dana Whitfield"), _p(3, "Whitfield, Dana K.")
    assert identity.namesake_pairs([work, home], owner=OWNER_NAME) == [(3, 7)]
    assert identity.namesake_pairs([work, home, work], owner=OWNER_NAME) == [(3, 7)]
    third = _p(9, "DANA WHITFIELD")
    assert identity.namesake_pairs([work, home, third], owner=OWNER_NAME) == []  # too common
    assert identity.namesake_pairs([work, _p(4, "Dave Whitfield")], owner=OWNER_NAME) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Dana K. Whitfield", "Dana R. Whitfield"),  # other middle initials: two people
        ("Dana Whitfield Jr.", "Dana Whitfield"),  # parent and child
        ("Dana Whitfield Jr.", "Dana Whitfield Sr."),
        ("Olive Owner", "Olive Owner"),  # the owner's own name: never by this rule
        ("O. Owner", "O. Owner"),
    ],
)
def test_namesake_pairs__what_is_not_one_person(a: str, b: str) -> None:
    assert identity.namesake_pairs([_p(1, a), _p(2, b)], owner=OWNER_NAME) == []


def test_co_named__two_contacts_of_one_name_in_one_message() -> None:
    people = {
        1: _p(1, "Dana Whitfield"),
        2: _p(2, "Dana Whitfield"),
        3: _p(3, "Sam Rao"),
        5: _p(1, "Dana Whitfield"),  # merged into 1 since
        6: identity.NamedPerson(contact_id=6, name="Dana", first="Dana", last="", quality=2),
    }
    assert identity.co_named([{1, 2, 3}], people) == {(1, 2)}
    assert identity.co_named([{1, 3}, {2, 3}], people) == set()  # never together
    assert identity.co_named([{5, 2}], people) == {(1, 2)}
    assert identity.co_named([{1, 6}, {1, 5}], people) == set()


def test_suffixes_differ() -> None:
    assert names.suffixes_differ("Dana Whitfield Jr", "Dana Whitfield")
    assert not names.suffixes_differ("Dana Whitfield Jr.", "Dana K. Whitfield Jr")
    assert not names.suffixes_differ("Dana V Whitfield", "Dana Whitfield")  # a middle initial


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
