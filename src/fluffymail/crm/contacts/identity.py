"""Who is who: which senders of the user's sent folders are the user, which are delegates, and
which contacts are one person told apart only by address (a handle, a company renamed).

Pure rules, no database. An address is one of the user's own (an alias) on strong evidence
only: the provider's list, the user's confirmation, or a sent-folder sender that carries the
owner's own given and family name *and* sends a real share of the sent folder. Anyone else
sending from the user's mailbox (an assistant, a colleague, a family member) is a delegate:
a contact in their own right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from fluffymail.crm.contacts import automated, companies, names

__all__ = [
    "LEGACY_REASON",
    "MIN_MESSAGES",
    "MIN_SHARE",
    "UNDECIDED_REASONS",
    "AddressCandidate",
    "Decision",
    "Kind",
    "PairReason",
    "SentSender",
    "address_pairs",
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


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressCandidate:
    """One address of a live person contact, with the contact's name as stored."""

    contact_id: int
    address: str
    name: str
    first: str
    last: str
    quality: int  # names.NameQuality, 0 for no name

    @property
    def local(self) -> str:
        return self.address.rpartition("@")[0]

    @property
    def host(self) -> str:
        return self.address.rpartition("@")[2]


class PairReason(StrEnum):
    """Why `address_pairs` pairs two contacts (`crm.contact_merges.reason`)."""

    HANDLE = "handle_same_company"
    LOCAL_PART = "same_name_same_local_part"


def address_pairs(
    candidates: Iterable[AddressCandidate], *, handle_hosts: Iterable[str]
) -> list[tuple[int, int, PairReason]]:
    """`(into_id, from_id, reason)`: two contacts of one person told apart only by address.

    - HANDLE: a contact with no name of its own (or only a given or family name) whose
      address is a handle of exactly one fully named contact's name at the same company host
      (`names.is_handle_of`: ``danaw@acme.com`` and Dana Whitfield
      ``<dana_whitfield@acme.com>``); two named contacts that both fit (Dana and Dave
      Whitfield for ``dwhitfield``) give no pair. Into the named contact.
    - LOCAL_PART: two fully named contacts with the same name and the same local part at two
      company domains, the local part made of that name (``dana.whitfield@acme.com`` and
      ``dana.whitfield@acme-energy.com``, ``dwhitfie@`` at an old and a renamed company).
      Into the older contact.

    Free mail is never evidence (people sharing gmail.com are strangers, and a handle there
    is anyone's), nor an address with digits. HANDLE looks only at `handle_hosts` (the caller
    leaves out the user's own domains, where the address book names colleagues already).
    """
    found = [
        c for c in candidates if _company_host(c.host) and not any(ch.isdigit() for ch in c.local)
    ]
    hosts = set(handle_hosts)
    pairs = _handle_pairs([c for c in found if c.host in hosts])
    paired = {from_id for _, from_id, _ in pairs}
    pairs += [p for p in _local_part_pairs(found) if p[1] not in paired and p[0] not in paired]
    return sorted(pairs)


def _handle_pairs(found: list[AddressCandidate]) -> list[tuple[int, int, PairReason]]:
    by_host: dict[str, list[AddressCandidate]] = defaultdict(list)
    for c in found:
        by_host[c.host].append(c)
    pairs: dict[int, int] = {}
    for same_host in by_host.values():
        named: dict[str, list[AddressCandidate]] = defaultdict(list)  # handle -> named contacts
        for n in same_host:
            if n.quality >= names.NameQuality.FULL:
                for handle in names.handles_of(n.first, n.last):
                    named[handle].append(n)
        for c in same_host:
            if c.quality >= names.NameQuality.FULL or c.contact_id in pairs:
                continue
            handle = c.local.casefold() if c.local.isalpha() else ""
            fits = {
                n.contact_id
                for n in named.get(handle, ())
                if n.contact_id != c.contact_id and _own_word_agrees(c, n)
            }
            if len(fits) == 1:
                pairs[c.contact_id] = fits.pop()
    return [(into, from_id, PairReason.HANDLE) for from_id, into in pairs.items()]


def _local_part_pairs(found: list[AddressCandidate]) -> list[tuple[int, int, PairReason]]:
    by_local: dict[str, list[AddressCandidate]] = defaultdict(list)
    for c in found:
        if c.quality >= names.NameQuality.FULL:
            by_local[c.local].append(c)
    pairs = set()
    for local, same in by_local.items():
        if len({_registrable(c.host) for c in same}) < 2:
            continue  # one company: the name key merges it, if anything does
        same = [c for c in same if names.is_made_of_name(local, c.first, c.last)]
        for a in same:
            for b in same:
                if (
                    a.contact_id < b.contact_id
                    and _registrable(a.host) != _registrable(b.host)
                    and (_norm(a.first), _norm(a.last)) == (_norm(b.first), _norm(b.last))
                    and not names.middles_differ(a.name, b.name)
                ):
                    pairs.add((a.contact_id, b.contact_id, PairReason.LOCAL_PART))
    return sorted(pairs)


def _own_word_agrees(handle: AddressCandidate, named: AddressCandidate) -> bool:
    """A handle contact named by one word (``Dana``) fits only a name holding that word."""
    own = _norm(handle.first or handle.last)
    return not own or own in {_norm(named.first), _norm(named.last)}


@lru_cache(maxsize=65536)
def _company_host(host: str) -> bool:
    registrable = companies.registrable_domain(host)
    return registrable is not None and not companies.is_free_mail_domain(registrable)


@lru_cache(maxsize=65536)
def _registrable(host: str) -> str:
    return companies.registrable_domain(host) or host
