"""Pure extraction planning: which participants of a message become contact links, and why not.

Decides self (owner + aliases; `identity` decides which sent-folder senders are aliases), automated/bulk mail, bounces, the
creation policy and each link's role. No database: `service.py` feeds it rows and stores
the plan through `repo.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from fluffymail.crm.contacts import addresses, automated, companies

__all__ = [
    "NO_SENDER",
    "SENT_FOLDER_PATTERN",
    "AddressInfo",
    "Link",
    "MessageInput",
    "MessagePlan",
    "Participant",
    "Policy",
    "SelfSet",
    "address_info",
    "bounced_addresses",
    "identity_key",
    "is_sent_folder",
    "plan_message",
    "sent_folder_senders",
    "work_domains",
]

NO_SENDER = "no_sender"  # automated_reason for a message with no usable From
# also run by PostgreSQL (`~*`, contacts/sql/sent_senders.sql): keep it to the common syntax
SENT_FOLDER_PATTERN = r"(?:^|[^a-z])sent(?:[^a-z]|$)|gesendet|envoy|enviad|inviat"
_SENT_FOLDER = re.compile(SENT_FOLDER_PATTERN, re.I)
_BOUNCE_LINE = re.compile(r"^\s*<([^<>\s@]+@[^<>\s]+)>:", re.MULTILINE)
_FINAL_RECIPIENT = re.compile(
    r"^\s*(?:Final|Original)-Recipient:\s*rfc822\s*;\s*<?([^\s<>;]+@[^\s<>;]+)>?",
    re.IGNORECASE | re.MULTILINE,
)
_WARNING_ONLY = re.compile(r"warning only|action:\s*delayed|delivery delayed", re.IGNORECASE)
_COUNTED_ROLES = ("to", "cc", "bcc")


class Policy(StrEnum):
    """Per-connection creation policy (`crm.connections.contact_policy`)."""

    SENT = "sent"
    SENT_AND_RECEIVED = "sent_and_received"
    NONE = "none"

    @classmethod
    def most_permissive(cls, values: Iterable[str]) -> Policy:
        """A message seen through several connections takes the most permissive policy."""
        found = {cls(v) for v in values if v in cls._value2member_map_}
        for policy in (cls.SENT_AND_RECEIVED, cls.SENT, cls.NONE):
            if policy in found:
                return policy
        return cls.SENT


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    role: str  # from, to, cc, bcc, reply_to (crm.message_participants.role)
    address: str
    display_name: str = ""
    valid: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageInput:
    """What extraction needs of one stored message."""

    id: int
    user_id: int
    date: datetime | None
    headers: Mapping[str, str | None]
    has_calendar: bool
    is_delivery_report: bool
    report_text: str | None
    folders: tuple[str, ...]
    policy: Policy
    participants: tuple[Participant, ...]
    # X-From / X-To / X-cc of Exchange and Notes exports: the display name of a role's
    # participant when the role holds exactly one address without a name of its own
    legacy_names: Mapping[str, str] = field(default_factory=dict)
    # To + Cc + Bcc as stored, when the loader counted them (it may then leave the recipients
    # of a message over automated.MAX_HUMAN_RECIPIENTS out of `participants`: it is bulk)
    recipient_count: int | None = None
    # messages.bulk: a bulk-mail platform header, an unsubscribe line or an HTML-only body
    bulk_signal: str | None = None

    @property
    def recipients(self) -> int:
        if self.recipient_count is not None:
            return self.recipient_count
        return sum(1 for p in self.participants if p.role in _COUNTED_ROLES)


@dataclass(slots=True)
class SelfSet:
    """The user's own addresses and domains; grows as sent-folder mail reveals aliases."""

    owner: str
    aliases: set[str]
    own_domains: set[str]
    # other people who send from the user's mailbox (`identity`): what they send from the
    # user's sent folders is the user's mail, sent on the user's behalf
    delegates: frozenset[str] = frozenset()

    @classmethod
    def build(cls, owner: str, aliases: Iterable[str], delegates: Iterable[str] = ()) -> SelfSet:
        found = {owner.lower(), *(a.lower() for a in aliases)}
        others = frozenset(d.lower() for d in delegates) - found
        return cls(
            owner=owner.lower(), aliases=found, own_domains=work_domains(found), delegates=others
        )

    def add(self, address: str) -> None:
        self.aliases.add(address)
        self.own_domains |= work_domains([address])

    def __contains__(self, address: object) -> bool:
        return address in self.aliases


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One (message, address, role) interaction; `visible` when the policy creates the contact."""

    message_id: int
    address: str
    role: str  # sent_to, received_from, cc, reply_to
    display_name: str
    occurred_on: datetime | None
    visible: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePlan:
    message_id: int
    automated_reason: str | None = None
    links: tuple[Link, ...] = ()
    bounced: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressInfo:
    """Company side of an address: a company domain, internal (own domain), or neither."""

    address: str
    company: companies.CompanyDomain | None
    internal: bool


@lru_cache(maxsize=4096)
def is_sent_folder(name: str) -> bool:
    """``sent``, ``Sent Items``, ``_sent_mail``, ``[Gmail]/Sent Mail`` (not ``consent``)."""
    return bool(_SENT_FOLDER.search(name))


def sent_folder_senders(messages: Iterable[MessageInput], me: SelfSet) -> set[str]:
    """Senders of sent-folder messages that are not (yet) the user: each is an alias or a
    delegate, which only the whole sent folder can tell (`identity.decide`)."""
    found: set[str] = set()
    for message in messages:
        sender = _sender(message)
        if sender is None or sender in me or automated.is_role_address(sender):
            continue
        if any(is_sent_folder(folder) for folder in message.folders):
            found.add(sender)
    return found


def plan_message(message: MessageInput, me: SelfSet) -> MessagePlan:
    """The links one message contributes, or the reason it contributes none."""
    sender = _sender(message)
    on_behalf = sender in me.delegates and any(is_sent_folder(f) for f in message.folders)
    outgoing = sender is not None and (sender in me or on_behalf)
    reason = _automated_reason(message, sender, outgoing)
    if reason is not None:
        bounced = bounced_addresses(message.report_text) if _is_bounce(message, reason) else ()
        return MessagePlan(message_id=message.id, automated_reason=reason, bounced=bounced)
    links = _links(message, sender, outgoing, me)
    if on_behalf and sender is not None:  # the delegate wrote it: a link of their own
        links.append(_delegate_link(message, sender))
    return MessagePlan(message_id=message.id, links=tuple(links))


def _delegate_link(message: MessageInput, sender: str) -> Link:
    """Mail a delegate sent from the user's sent folder is the user's to its recipients and,
    with the delegate, the delegate's (`received_from`): see relationships/SCORING.md."""
    found = next(p for p in message.participants if p.role == "from" and p.valid)
    return Link(
        message_id=message.id,
        address=sender,
        role="received_from",
        display_name=_display_name(
            found, message, damaged=addresses.address_defect(sender) in addresses.LOST_PART
        ),
        occurred_on=message.date,
        visible=message.policy is not Policy.NONE,
    )


def _sender(message: MessageInput) -> str | None:
    for p in message.participants:
        if p.role == "from" and p.valid:
            normalized = addresses.normalize_address(p.address, keep_damaged=True)
            if normalized is not None:
                return normalized.email
    return None


def _automated_reason(message: MessageInput, sender: str | None, outgoing: bool) -> str | None:
    if sender is None:
        return NO_SENDER
    reason = automated.is_automated(
        message.headers,
        None if outgoing else sender,
        message.recipients,
        is_calendar_invite=message.has_calendar,
    )
    if reason is None and message.is_delivery_report:
        return str(automated.AutomatedReason.DELIVERY_REPORT)
    if reason is None and message.bulk_signal and not outgoing:
        return message.bulk_signal  # bulk without List-* headers (issue 12)
    return str(reason) if reason is not None else None


def _is_bounce(message: MessageInput, reason: str) -> bool:
    return message.is_delivery_report or reason in {
        automated.AutomatedReason.DELIVERY_REPORT,
        automated.AutomatedReason.NULL_RETURN_PATH,
    }


def bounced_addresses(report_text: str | None) -> tuple[str, ...]:
    """Addresses a delivery-status report says failed (not mere delay warnings)."""
    if not report_text or _WARNING_ONLY.search(report_text[:5000]):
        return ()
    found = _FINAL_RECIPIENT.findall(report_text) + _BOUNCE_LINE.findall(report_text)
    normalized = (addresses.normalize_address(raw) for raw in found)
    return tuple(dict.fromkeys(n.email for n in normalized if n is not None))


def _links(message: MessageInput, sender: str | None, outgoing: bool, me: SelfSet) -> list[Link]:
    visible = message.policy is Policy.SENT_AND_RECEIVED or (
        outgoing and message.policy is Policy.SENT
    )
    roles = _OUTGOING_ROLES if outgoing else _INCOMING_ROLES
    seen: set[tuple[str, str]] = set()
    links: list[Link] = []
    for p in message.participants:
        role = roles.get(p.role)
        if role is None or not p.valid:
            continue
        normalized = addresses.normalize_address(p.address, keep_damaged=True)
        if normalized is None or normalized.email in me:
            continue
        email = normalized.email
        if automated.is_role_address(email) or (role == "reply_to" and email == sender):
            continue
        if (email, role) in seen:
            continue
        seen.add((email, role))
        links.append(
            Link(
                message_id=message.id,
                address=email,
                role=role,
                display_name=_display_name(
                    p, message, damaged=normalized.defect in addresses.LOST_PART
                ),
                occurred_on=message.date,
                visible=visible,
            )
        )
    return links


def _display_name(p: Participant, message: MessageInput, *, damaged: bool = False) -> str:
    """The participant's name part, else its name in X-From/X-To/X-cc: the whole value when
    the role holds one address, else the entry at its position when the X-header lists as
    many entries as the role (Exchange and Notes exports write `To:` bare and every name in
    `X-To`, in the same order). A damaged address (`addresses.DEFECTS`) takes its X-header
    name first: its name part is a fragment the old system left (``legal <.hall@enron.com>``)."""
    name = p.display_name.strip()
    legacy = message.legacy_names.get(p.role, "").strip()
    if damaged and " " not in name and name.islower():
        name = ""  # `houston <.ward@…>`: the fragment of a "(Houston)" note, not a name
    if legacy and (damaged or not name):
        name = _aligned_legacy_name(p, message, legacy) or name
    return " ".join(name.split())[:300] if name else ""


def _aligned_legacy_name(p: Participant, message: MessageInput, legacy: str) -> str:
    same_role = [q for q in message.participants if q.role == p.role]
    if len(same_role) == 1:
        return legacy
    entries = addresses.split_legacy_names(legacy)
    if len(entries) != len(same_role):
        return ""
    return entries[next(i for i, q in enumerate(same_role) if q is p)]


# bcc never creates a contact; on the user's own mail reply-to is the user
_OUTGOING_ROLES = {"to": "sent_to", "cc": "cc"}
_INCOMING_ROLES = {"from": "received_from", "to": "cc", "cc": "cc", "reply_to": "reply_to"}


def address_info(address: str, own_domains: Iterable[str]) -> AddressInfo:
    """The company behind `address`, or internal when it is under one of the user's domains."""
    own = set(own_domains)
    host = address.rsplit("@", 1)[-1]
    registrable = companies.registrable_domain(host) or host
    if registrable in own:
        return AddressInfo(address=address, company=None, internal=True)
    return AddressInfo(address=address, company=companies.company_domain(address), internal=False)


def work_domains(emails: Iterable[str]) -> set[str]:
    """Registrable domains of the user's addresses, except free-mail providers."""
    found: set[str] = set()
    for email in emails:
        host = email.rsplit("@", 1)[-1]
        registrable = companies.registrable_domain(host)
        if registrable and not companies.is_free_mail_domain(registrable):
            found.add(registrable)
    return found


def identity_key(first: str, last: str, address: str) -> str | None:
    """Merge evidence key: full name at a work domain (``phillip allen@enron.com``).

    None for free mail (two John Smiths at gmail.com are not one person) and for local parts
    with digits (tracking and campaign addresses).
    """
    if not first or not last or len(first.strip(".")) < 2:
        return None
    local, _, host = address.rpartition("@")
    if any(c.isdigit() for c in local):  # tracking / campaign addresses: no person evidence
        return None
    registrable = companies.registrable_domain(host)
    if registrable is None or companies.is_free_mail_domain(registrable):
        return None
    name = f"{first} {last}".casefold().replace(".", "").strip()
    return f"{name}@{registrable}"


def summarize(plans: Sequence[MessagePlan]) -> dict[str, int]:
    """Counts for the job output: messages, automated, links, aliases, bounces."""
    return {
        "messages": len(plans),
        "automated": sum(1 for p in plans if p.automated_reason),
        "links": sum(len(p.links) for p in plans),
        "bounced": sum(len(p.bounced) for p in plans),
    }
