"""Which sent-folder senders are the user: the owner's name and a real share, never one message;
a namesake or an assistant is a delegate."""

from __future__ import annotations

from fluffymail.crm.contacts import identity, names
from fluffymail.crm.contacts.identity import Kind, SentSender

OWNER = "jane.doe@corp.example"


def _decide(*senders: SentSender, user_name: str = "") -> dict[str, Kind]:
    everyone = (SentSender(address=OWNER, display_name="Jane Doe", messages=50), *senders)
    person = identity.owner_name(user_name, OWNER, everyone)
    return {d.address: d.kind for d in identity.decide(everyone, owner=OWNER, owner_person=person)}


def test_owner_name__account_name_then_own_display_name_then_address() -> None:
    assert identity.owner_name("Jane Q. Doe", OWNER, []).key == "jane doe"
    shown = [SentSender(address=OWNER, display_name="Doe, Janet", messages=3)]
    assert identity.owner_name("", OWNER, shown).key == "janet doe"
    assert identity.owner_name("", OWNER, []).key == "jane doe"
    assert identity.owner_name("", "jd@corp.example", []) is None


def test_same_person__family_and_given_name_or_its_initial() -> None:
    jane = names.parse_display_name("Jane Doe")
    assert jane is not None
    for other, same in (
        ("Doe, Jane M.", True),
        ("J. Doe", True),
        ("John Doe", False),  # same family name, another given name: another person
        ("Jane Smith", False),
    ):
        parsed = names.parse_display_name(other)
        assert parsed is not None and identity.same_person(jane, parsed) is same, other


def test_decide__name_and_share_make_an_alias_anything_less_a_delegate() -> None:
    kinds = _decide(
        SentSender(address="j..doe@corp.example", display_name="Doe, Jane", messages=20),
        SentSender(address="jane@home.example", display_name="Jane Doe", messages=1),
        SentSender(address="john.doe@corp.example", display_name="John Doe", messages=30),
        SentSender(address="ina.aide@corp.example", display_name="Ina Aide", messages=40),
    )
    assert kinds == {
        "j..doe@corp.example": Kind.ALIAS,
        "jane@home.example": Kind.DELEGATE,  # one message is never enough
        "john.doe@corp.example": Kind.DELEGATE,
        "ina.aide@corp.example": Kind.DELEGATE,
    }


def test_decide__under_the_share_bar_stays_a_delegate_and_roles_are_skipped() -> None:
    kinds = _decide(
        SentSender(address="jane.doe@old.example", display_name="Jane Doe", messages=6),
        SentSender(address="noreply@corp.example", display_name="", messages=30),
    )
    assert kinds == {"jane.doe@old.example": Kind.DELEGATE}  # 6 of 86 is under 10 %


def test_decide__without_the_owner_name_nothing_becomes_an_alias() -> None:
    senders = [
        SentSender(address="x@corp.example", display_name="", messages=5),
        SentSender(address="x2@corp.example", display_name="", messages=50),
    ]
    decisions = identity.decide(senders, owner="x@corp.example", owner_person=None)
    assert [(d.address, d.kind) for d in decisions] == [("x2@corp.example", Kind.DELEGATE)]
