"""Who is who: which senders of the user's sent folders are the user, which are delegates, and
which contacts are one person told apart only by address (a handle, a company renamed, one name
at work and at home).

Pure rules, no database. An address is one of the user's own (an alias) on strong evidence
only: the provider's list, the user's confirmation, or a sent-folder sender that carries the
owner's own given and family name *and* sends a real share of the sent folder. Anyone else
sending from the user's mailbox (an assistant, a colleague, a family member) is a delegate:
a contact in their own right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
    "NameKeys",
    "NamedPerson",
    "PairReason",
    "SentSender",
    "address_pairs",
    "co_named",
    "decide",
    "handle_addresses",
    "handle_name_keys",
    "namesake_pairs",
    "owner_name",
    "pairing_keys",
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
    ONE_MESSAGE = "same_name_one_message"  # `namesake_pairs`: one message to both


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
    """A nameless contact's addresses are tried in order (contact, then address), and its
    first handle that fits one name wins: the outcome for a contact depends only on its own
    addresses and the named people at their hosts, so the caller may read no one else."""
    named: dict[tuple[str, str], set[int]] = defaultdict(set)  # (host, handle) -> contacts
    words: dict[int, set[str]] = {}  # named contact -> its given and family name
    for n in found:
        if n.quality >= names.NameQuality.FULL:
            words[n.contact_id] = {_norm(n.first), _norm(n.last)}
            for handle in names.handles_of(n.first, n.last):
                named[(n.host, handle)].add(n.contact_id)
    pairs: dict[int, int] = {}
    for c in sorted(found, key=lambda c: (c.contact_id, c.address)):
        if c.quality >= names.NameQuality.FULL or c.contact_id in pairs:
            continue
        handle = c.local.casefold() if c.local.isalpha() else ""
        own = _norm(c.first or c.last)  # a handle named by one word fits a name holding it
        fits = {
            n
            for n in named.get((c.host, handle), ())
            if n != c.contact_id and (not own or own in words[n])
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


@dataclass(frozen=True, slots=True, kw_only=True)
class NameKeys:
    """Names to look the user's fully named people up by: `families` as (family name, given
    name) and `givens` as (given name, family name), of which the other name's initial only
    counts; `full` as (given name, family name), both counting. The database compares names by
    `crm.name_key`: letters, folded, the first 6 of the one and the initial of the other."""

    givens: frozenset[tuple[str, str]] = frozenset()
    families: frozenset[tuple[str, str]] = frozenset()
    full: frozenset[tuple[str, str]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.givens or self.families or self.full)

    def __or__(self, other: NameKeys) -> NameKeys:
        return NameKeys(
            givens=self.givens | other.givens,
            families=self.families | other.families,
            full=self.full | other.full,
        )


def handle_addresses(candidates: Iterable[AddressCandidate], hosts: Iterable[str]) -> list[str]:
    """Where a nameless handle of a fully named candidate would be: each of its name's handles
    (`names.handles_of`) at each of its hosts among `hosts` (``danaw@acme.com``, ``dwhitfield@
    acme.com`` … for Dana Whitfield ``<dana_whitfield@acme.com>``), exact addresses to read."""
    wanted = set(hosts)
    return sorted(
        f"{handle}@{c.host}"
        for c in candidates
        if c.quality >= names.NameQuality.FULL and c.host in wanted and _company_host(c.host)
        for handle in names.handles_of(c.first, c.last)
    )


def pairing_keys(candidates: Iterable[AddressCandidate], hosts: Iterable[str]) -> NameKeys:
    """The names of the people `address_pairs` may pair with `candidates`: those whose name
    could make the handle of a nameless candidate at one of `hosts` (`handle_name_keys`), and
    the namesakes of a fully named candidate (one local part at two companies)."""
    wanted = set(hosts)
    keys = NameKeys()
    for c in candidates:
        if c.quality >= names.NameQuality.FULL:
            keys |= NameKeys(full=frozenset({(c.first, c.last)}))
        elif c.host in wanted and c.local.isalpha() and _company_host(c.host):
            keys |= handle_name_keys(c.local.casefold())
    return keys


@lru_cache(maxsize=65536)
def handle_name_keys(handle: str) -> NameKeys:
    """The names `handle` may be a handle of (`names.handles_of` read backwards), as
    `NameKeys`: a superset, each shape fixing one name and the other's initial. Family names:
    the handle less a given name or an initial in front (``dwhitfield`` -> Whitfield, D…; cut
    short, ``dwhitfi`` -> whitfi…, D…: the key holds 6 letters), or less one behind
    (``whitfieldd`` -> Whitfield, D…); given names: less a family initial behind (``danaw`` ->
    Dana, W…)."""
    n = len(handle)
    if n < names.HANDLE_MIN:
        return NameKeys()
    ahead = {(handle[k:], handle[:k]) for k in range(1, n - 1)}  # dana|whitfield, d|whitfield
    behind = {(handle[:k], handle[k:]) for k in range(2, n)}  # whitfield|dana, whitfield|d
    return NameKeys(
        givens=frozenset({(handle[:-1], handle[-1])}), families=frozenset(ahead | behind)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedPerson:
    """A live person contact with its name as stored."""

    contact_id: int
    name: str
    first: str
    last: str
    quality: int  # names.NameQuality, 0 for no name

    @property
    def key(self) -> tuple[str, str]:
        return _norm(self.first), _norm(self.last)


def co_named(
    together: Iterable[Iterable[int]], people: Mapping[int, NamedPerson]
) -> set[tuple[int, int]]:
    """Pairs (lower id, higher id) of two contacts of one full name that one message went to:
    `together` holds each message's recipients, `people` who they are (after merges)."""
    found = set()
    for contact_ids in together:
        by_name: dict[tuple[str, str], set[int]] = defaultdict(set)
        for contact_id in contact_ids:
            person = people.get(contact_id)
            if person is not None and person.quality >= names.NameQuality.FULL:
                by_name[person.key].add(person.contact_id)
        for same in by_name.values():
            found |= {(a, b) for a in same for b in same if a < b}
    return found


def namesake_pairs(
    people: Iterable[NamedPerson], *, owner: names.PersonName | None
) -> list[tuple[int, int]]:
    """(older, newer): the only two live people of the user who carry one full name (given and
    family name alike, no other middle initial or suffix), unless it is the owner's name. One
    person at two addresses (work and home: ``dana.whitfield@acme.com`` and ``dwhit@gmail.com``)
    when one message was written to both, which the caller checks (`PairReason.ONE_MESSAGE`):
    a namesake elsewhere cannot be told apart by the name alone, and a third one makes the
    name too common to say which two are one. One writing to the other is no evidence: a
    father and his son of one name write to each other."""
    by_name: dict[tuple[str, str], list[NamedPerson]] = defaultdict(list)
    for person in {p.contact_id: p for p in people}.values():
        if person.quality >= names.NameQuality.FULL:
            by_name[person.key].append(person)
    pairs = []
    for (first, last), same in by_name.items():
        if len(same) != 2 or not first or not last:
            continue
        a, b = sorted(same, key=lambda p: p.contact_id)
        if names.middles_differ(a.name, b.name) or names.suffixes_differ(a.name, b.name):
            continue
        if owner is not None and same_person(owner, _person(a)):
            continue
        pairs.append((a.contact_id, b.contact_id))
    return sorted(pairs)


def _person(named: NamedPerson) -> names.PersonName:
    return names.PersonName(first=named.first, last=named.last, full=named.name)


@lru_cache(maxsize=65536)
def _company_host(host: str) -> bool:
    registrable = companies.registrable_domain(host)
    return registrable is not None and not companies.is_free_mail_domain(registrable)


@lru_cache(maxsize=65536)
def _registrable(host: str) -> str:
    return companies.registrable_domain(host) or host
