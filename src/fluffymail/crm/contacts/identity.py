"""Who the user is: which senders of the user's sent folders are the user, which are delegates.

Pure rules, no database. An address is one of the user's own (an alias) on strong evidence
only: the provider's list, the user's confirmation, or a sent-folder sender that carries the
owner's own given and family name *and* sends a real share of the sent folder. Anyone else
sending from the user's mailbox (an assistant, a colleague, a family member) is a delegate:
a contact in their own right.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fluffymail.crm.contacts import automated, names

__all__ = [
    "LEGACY_REASON",
    "MIN_MESSAGES",
    "MIN_SHARE",
    "UNDECIDED_REASONS",
    "Decision",
    "Kind",
    "SentSender",
    "decide",
    "owner_name",
    "same_person",
]

MIN_MESSAGES = 5  # sent-folder messages an address needs before it can be the user's
MIN_SHARE = 0.10  # ... and its share of all the user's sent-folder messages
# reasons of rule decisions that more mail may change (reviewed again when the sender sends)
UNDECIDED_REASONS = ("the owner's name", "the owner's name is unknown")
LEGACY_REASON = "legacy"  # an alias of the one-message rule, marked by migration 0017


class Kind(StrEnum):
    ALIAS = "alias"
    DELEGATE = "delegate"


@dataclass(frozen=True, slots=True, kw_only=True)
class SentSender:
    """One address seen as From in the user's sent folders, with its most used display name."""

    address: str
    display_name: str
    messages: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    address: str
    display_name: str
    kind: Kind
    messages: int
    total: int
    reason: str

    @property
    def share(self) -> float:
        return self.messages / self.total if self.total else 0.0


def owner_name(
    user_name: str, owner: str, senders: Iterable[SentSender]
) -> names.PersonName | None:
    """The owner's personal name: the account's name, else the display name the owner's own
    address sends under, else one derived from the address (``jane.doe@`` -> Jane Doe)."""
    for display, address in ((user_name, owner), *_own_display(owner, senders)):
        parsed = names.parse_display_name(display, address) if display else None
        if parsed is not None and parsed.first and parsed.last:
            return parsed
    derived = names.parse_display_name("", owner)
    return derived if derived is not None and derived.first and derived.last else None


def _own_display(owner: str, senders: Iterable[SentSender]) -> list[tuple[str, str]]:
    return [(s.display_name, s.address) for s in senders if s.address == owner]


def same_person(owner: names.PersonName, other: names.PersonName) -> bool:
    """Same family name and compatible given names (equal, or one is the other's initial).

    Two people sharing a surname with different given names are different people.
    """
    if not owner.last or not other.last or _norm(owner.last) != _norm(other.last):
        return False
    a, b = _norm(owner.first), _norm(other.first)
    if not a or not b:
        return False
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return a == b


def _norm(part: str) -> str:
    return part.casefold().replace(".", "").strip()


def decide(
    senders: Sequence[SentSender],
    *,
    owner: str,
    owner_person: names.PersonName | None,
    self_addresses: Iterable[str] = (),
) -> list[Decision]:
    """What each sent-folder sender is, other than the addresses already known to be the user
    (`owner` and `self_addresses`: account, provider and confirmed addresses)."""
    known = {owner, *self_addresses}
    total = sum(s.messages for s in senders)
    decisions = []
    for sender in senders:
        if sender.address in known or automated.is_role_address(sender.address):
            continue
        kind, reason = _classify(sender, total, owner_person)
        decisions.append(
            Decision(
                address=sender.address,
                display_name=sender.display_name,
                kind=kind,
                messages=sender.messages,
                total=total,
                reason=reason,
            )
        )
    return decisions


def _classify(
    sender: SentSender, total: int, owner_person: names.PersonName | None
) -> tuple[Kind, str]:
    person = names.parse_display_name(sender.display_name, sender.address)
    if owner_person is None:
        return Kind.DELEGATE, "the owner's name is unknown"
    if person is None or not same_person(owner_person, person):
        return Kind.DELEGATE, "a different person's name"
    share = sender.messages / total if total else 0.0
    if sender.messages < MIN_MESSAGES or share < MIN_SHARE:
        return Kind.DELEGATE, (
            f"the owner's name, but only {sender.messages} of {total} sent messages"
        )
    return Kind.ALIAS, f"the owner's name on {sender.messages} of {total} sent messages"
