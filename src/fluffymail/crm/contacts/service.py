"""Contact orchestration: extraction of a batch of messages, names, merges, enrichment.

Runs the pure rules (`extraction`, `names`, `signatures` through `enrichment`) over rows
from `repo`, inside the caller's transaction. Knows nothing of the queue.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fluffymail.crm.contacts import (
    addresses,
    companies,
    enrichment,
    extraction,
    groups,
    identity,
    names,
)
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts.extraction import Link, MessageInput, MessagePlan, SelfSet

__all__ = [
    "ExtractResult",
    "IdentityReview",
    "Planned",
    "Prepared",
    "confirm_alias",
    "describe_self",
    "enrich_contact",
    "extract_messages",
    "extract_prepared",
    "merge_contacts",
    "prepare_batch",
    "release_aliases",
    "repair_aliases",
    "review_identity",
    "unmerge",
]

AUTO_MERGE_REASON = "same_name_same_company"
_RECIPIENT_ROLES = frozenset({"sent_to", "cc"})  # links of a message's To and Cc
log = logging.getLogger(__name__)
Conn = contacts_repo.Conn


@dataclass(slots=True, kw_only=True)
class ExtractResult:
    messages: int = 0
    automated: int = 0
    links: int = 0
    contacts_created: int = 0
    merges: int = 0
    aliases: int = 0
    bounced: int = 0
    visible_touched: set[int] = field(default_factory=set)
    held_back: set[int] = field(default_factory=set)  # wrote to the user; not contacts (policy)

    def as_output(self) -> dict[str, int]:
        return {
            "messages": self.messages,
            "automated": self.automated,
            "links": self.links,
            "contacts_created": self.contacts_created,
            "merges": self.merges,
            "aliases": self.aliases,
            "bounced": self.bounced,
            "to_enrich": len(self.visible_touched),
            "people_waiting": len(self.held_back),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """One user's part of a batch: its plans and the contacts they need (already created)."""

    user_id: int
    aliases: frozenset[str]
    delegates: frozenset[str]
    messages: tuple[MessageInput, ...]
    plans: tuple[MessagePlan, ...]
    contact_of: dict[str, int]
    created: frozenset[int]


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A batch loaded and planned by `prepare_batch`."""

    messages: int
    users: tuple[Planned, ...]
    new_aliases: dict[int, tuple[str, ...]]  # user id -> addresses first recorded now
    contacts_created: int
    released: dict[int, tuple[str, ...]] = field(default_factory=dict)  # no longer aliases


async def prepare_batch(conn: Conn, message_ids: Sequence[int], *, now: datetime) -> Prepared:
    """Load and plan messages; record the aliases they reveal and create the companies and
    contacts their links need.

    Commit this right away, before `extract_prepared`: other batches then see the aliases
    and new contacts at once instead of waiting on this batch's unique keys. Batches in
    flight may have linked an alias as a contact; `repair_aliases` undoes that.
    """
    messages = await contacts_repo.load_messages(conn, message_ids)
    by_user = _by_user(messages)
    selves = await contacts_repo.load_self(conn, list(by_user))
    users: list[Planned] = []
    new_aliases: dict[int, tuple[str, ...]] = {}
    released: dict[int, tuple[str, ...]] = {}
    for user_id, batch in sorted(by_user.items()):
        user = selves[user_id]
        me = SelfSet.build(user.email, user.aliases, user.delegates)
        if me.owner not in user.aliases:
            await contacts_repo.add_aliases(conn, user_id, [(me.owner, "owner", None)], now)
        if await _needs_review(conn, user_id, extraction.sent_folder_senders(batch, me)):
            review = await review_identity(conn, user_id, now=now)
            if review.added:
                new_aliases[user_id] = review.added
            if review.released:
                released[user_id] = review.released
            me = SelfSet.build(user.email, review.aliases, review.delegates)
        users.append(await _plan(conn, user_id, me, batch, now))
    return Prepared(
        messages=len(messages),
        users=tuple(users),
        new_aliases=new_aliases,
        contacts_created=sum(len(u.created) for u in users),
        released=released,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityReview:
    """What `review_identity` changed: aliases added and released, and the aliases now."""

    aliases: tuple[str, ...]
    delegates: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    decisions: tuple[identity.Decision, ...] = ()


async def _needs_review(conn: Conn, user_id: int, senders: set[str]) -> bool:
    """A batch's sent-folder senders can change the user's identity when one is new or was
    only just short of an alias; an alias from before the evidence rule (migration 0017) is
    reviewed by the user's next batch, whatever it holds."""
    stored = {r["address"]: r for r in await contacts_repo.load_mailbox_senders(conn, user_id)}
    if any(r["reason"].startswith(identity.LEGACY_REASON) for r in stored.values()):
        return True
    return any(
        (row := stored.get(address)) is None
        or (row["decided_by"] == "rule" and row["reason"].startswith(identity.UNDECIDED_REASONS))
        for address in senders
    )


async def review_identity(conn: Conn, user_id: int, *, now: datetime) -> IdentityReview:
    """Decide again, from the whole sent folder, which senders are the user and which are
    delegates (`identity.decide`); record the aliases that pass and release those that no
    longer do (the caller re-attributes their mail: `release_aliases`). A decision the user
    made on the "You" page stands."""
    user = (await contacts_repo.load_self(conn, [user_id]))[user_id]
    senders = _sent_senders(
        await contacts_repo.sent_senders(conn, user_id, extraction.SENT_FOLDER_PATTERN)
    )
    stored = {r["address"]: r for r in await contacts_repo.load_mailbox_senders(conn, user_id)}
    by_user = {a: r["kind"] for a, r in stored.items() if r["decided_by"] == "user"}
    by_rule = {a for a, r in stored.items() if r["decided_by"] == "rule" and r["kind"] == "alias"}
    known = set(user.aliases) - by_rule
    decisions = identity.decide(
        senders,
        owner=user.email,
        owner_person=identity.owner_name(user.name, user.email, senders),
        self_addresses=known,
    )
    wanted = {d.address for d in decisions if d.kind is identity.Kind.ALIAS}
    wanted = {a for a in wanted if by_user.get(a, "alias") == "alias"}
    stale = sorted(a for a in (by_rule & set(user.aliases)) - wanted if a not in by_user)
    total = sum(s.messages for s in senders)
    rows = [
        {
            "address": d.address,
            "display_name": d.display_name[:300],
            "messages": d.messages,
            "total": d.total,
            "kind": str(d.kind),
            "reason": d.reason,
        }
        for d in decisions
    ]
    decided = {d.address for d in decisions}
    rows += [  # an alias of the old rule whose sent-folder mail is gone
        {"address": a, "display_name": "", "messages": 0, "total": total, "kind": "delegate",
         "reason": "no sent-folder messages"}
        for a in stale if a not in decided
    ]  # fmt: skip
    await contacts_repo.save_mailbox_senders(conn, user_id, rows, now)
    added = await contacts_repo.add_aliases(
        conn, user_id, [(a, "sent_folder", None) for a in sorted(wanted - set(user.aliases))], now
    )
    released = await contacts_repo.delete_aliases(conn, user_id, stale) if stale else []
    aliases = (set(user.aliases) | set(added)) - set(released)
    if added or released:
        log.info(
            "identity reviewed",
            extra={
                "action": "contacts.identity_reviewed",
                "user_id": user_id,
                "added": len(added),
                "released": len(released),
            },
        )
    delegates = {d.address for d in decisions if d.address not in aliases}
    return IdentityReview(
        aliases=tuple(sorted(aliases)),
        delegates=tuple(sorted(delegates)),
        added=tuple(sorted(added)),
        released=tuple(sorted(released)),
        decisions=tuple(decisions),
    )


async def describe_self(conn: Conn, user_id: int) -> list[str]:
    """How "self" is decided for the user, in words (the import summary): the account address,
    aliases and delegates as the rule sees the sent folders now (read only)."""
    user = (await contacts_repo.load_self(conn, [user_id]))[user_id]
    senders = _sent_senders(
        await contacts_repo.sent_senders(conn, user_id, extraction.SENT_FOLDER_PATTERN)
    )
    if not senders:
        return [
            f"self: {user.email} (the --user address) and the addresses your provider or you"
            " confirmed; no sent folder was found, so no other address is taken for you"
        ]
    person = identity.owner_name(user.name, user.email, senders)
    decisions = identity.decide(
        senders, owner=user.email, owner_person=person, self_addresses=[user.email]
    )
    aliases = [d for d in decisions if d.kind is identity.Kind.ALIAS]
    delegates = [d for d in decisions if d.kind is identity.Kind.DELEGATE]
    total = sum(s.messages for s in senders)
    named = f"named {person.full}" if person is not None else "name unknown"
    lines = [
        f"self: {user.email} (the --user address, {named}); {total:,} sent-folder messages."
        f" Another address is yours only with your name on >= {identity.MIN_MESSAGES} and"
        f" >= {identity.MIN_SHARE:.0%} of them, or once you confirm it (the You page)"
    ]
    lines += [f"  alias: {d.address} ({d.reason})" for d in aliases]
    lines += [f"  delegate: {d.address} ({d.reason}; {d.messages} sent)" for d in delegates]
    return lines


def _sent_senders(rows: Sequence[tuple[str, str, int]]) -> list[identity.SentSender]:
    """Rows of `sent_senders.sql` by normalised address (as extraction compares them)."""
    counts: dict[str, int] = defaultdict(int)
    shown: dict[str, tuple[int, str]] = {}
    for raw, display, messages in rows:
        normalized = addresses.normalize_address(raw)
        if normalized is None:
            continue
        counts[normalized.email] += messages
        if messages > shown.get(normalized.email, (0, ""))[0]:
            shown[normalized.email] = (messages, display)
    return [
        identity.SentSender(address=a, display_name=shown[a][1], messages=n)
        for a, n in sorted(counts.items())
    ]


async def extract_prepared(
    conn: Conn, prepared: Prepared, *, now: datetime, actor: str = "extract-contacts"
) -> ExtractResult:
    """Link, count, name and merge a prepared batch (idempotent).

    Call inside a transaction: a batch commits whole or not at all.
    """
    result = ExtractResult(messages=prepared.messages, contacts_created=prepared.contacts_created)
    result.aliases = sum(len(a) for a in prepared.new_aliases.values())
    for planned in prepared.users:
        await contacts_repo.lock_user(conn, planned.user_id, exclusive=False)
        user = (await contacts_repo.load_self(conn, [planned.user_id]))[planned.user_id]
        me = SelfSet.build(user.email, user.aliases, user.delegates)
        if me.aliases != planned.aliases:  # another batch found an alias meanwhile: re-plan
            planned = await _replan(conn, planned, me, now)
            result.contacts_created += len(planned.created)
        owner = identity.owner_name(user.name, user.email, ())
        await _link_and_count(conn, planned, result, owner=owner, now=now, actor=actor)
    return result


async def extract_messages(
    conn: Conn, message_ids: Sequence[int], *, now: datetime, actor: str = "extract-contacts"
) -> ExtractResult:
    """`prepare_batch`, `repair_aliases` when it found aliases, then `extract_prepared`, all in
    the caller's transaction (the job commits the first step separately, for concurrency)."""
    prepared = await prepare_batch(conn, message_ids, now=now)
    for user_id in sorted({*prepared.new_aliases, *prepared.released}):
        released = prepared.released.get(user_id, ())
        await repair_aliases(conn, user_id, now=now, actor=actor, released=released)
    return await extract_prepared(conn, prepared, now=now, actor=actor)


async def repair_aliases(
    conn: Conn,
    user_id: int,
    *,
    now: datetime,
    actor: str = "extract-contacts",
    released: Sequence[str] = (),
) -> ExtractResult:
    """Undo contacts made of the user's own addresses, and undo the user's part in the mail of
    `released` addresses (aliases no longer), then extract the messages touched again.

    Takes the user's extraction lock exclusively, so every batch that started before an
    alias was recorded has committed and its links are visible here.
    """
    await contacts_repo.lock_user(conn, user_id, exclusive=True)
    user = (await contacts_repo.load_self(conn, [user_id]))[user_id]
    aliases = sorted({user.email, *user.aliases})
    await contacts_repo.suppress_self(conn, user_id, aliases, now)
    await contacts_repo.forget_fanout_evidence(conn, user_id, [*aliases, *user.delegates])
    redo, contact_ids = await contacts_repo.unlink_messages(conn, user_id, aliases)
    released = sorted(set(released) - set(aliases))
    if released:
        await contacts_repo.release_self(conn, user_id, released, now)
        more, more_contacts = await contacts_repo.unlink_participants(conn, user_id, released)
        redo |= more
        contact_ids |= more_contacts
    await contacts_repo.recompute_counts(conn, sorted(contact_ids), now)
    result = ExtractResult()
    if redo:
        messages = await contacts_repo.load_messages(conn, sorted(redo))
        me = SelfSet.build(user.email, user.aliases, user.delegates)
        result.messages = len(messages)
        planned = await _plan(conn, user_id, me, messages, now)
        owner = identity.owner_name(user.name, user.email, ())
        await _link_and_count(conn, planned, result, owner=owner, now=now, actor=actor)
        await _refresh_released(conn, user_id, released, planned, now)
    log.info(
        "aliases repaired",
        extra={"action": "contacts.aliases_repaired", "user_id": user_id, "messages": len(redo)},
    )
    return result


async def _refresh_released(
    conn: Conn, user_id: int, released: Sequence[str], planned: Planned, now: datetime
) -> None:
    """Contacts of released addresses that existed before: counts from their links again."""
    ids = [planned.contact_of[a] for a in released if a in planned.contact_of]
    if ids:
        await contacts_repo.recompute_counts(conn, ids, now)


async def release_aliases(
    conn: Conn, user_id: int, addresses_: Sequence[str], *, now: datetime, actor: str
) -> ExtractResult:
    """The user says these addresses are not them: record it, drop the aliases and
    re-attribute their mail (they become contacts; delegates when they sent from the user's
    sent folders). Call inside a transaction."""
    for address in addresses_:
        await contacts_repo.decide_mailbox_sender(
            conn, user_id, address, "delegate", "rejected by the user", now
        )
    dropped = await contacts_repo.delete_aliases(conn, user_id, addresses_)
    return await repair_aliases(conn, user_id, now=now, actor=actor, released=dropped)


async def confirm_alias(
    conn: Conn, user_id: int, address: str, *, now: datetime, actor: str
) -> ExtractResult:
    """The user says this address is theirs: record it and extract its mail as theirs."""
    await contacts_repo.decide_mailbox_sender(
        conn, user_id, address, "alias", "confirmed by the user", now
    )
    await contacts_repo.add_aliases(conn, user_id, [(address, "user", None)], now)
    return await repair_aliases(conn, user_id, now=now, actor=actor)


def _by_user(messages: Sequence[MessageInput]) -> dict[int, list[MessageInput]]:
    by_user: dict[int, list[MessageInput]] = defaultdict(list)
    for message in messages:
        by_user[message.user_id].append(message)
    return by_user


async def _plan(
    conn: Conn, user_id: int, me: SelfSet, messages: Sequence[MessageInput], now: datetime
) -> Planned:
    """Plan `messages` and ensure the contacts their links need."""
    plans = tuple(extraction.plan_message(m, me) for m in messages)
    links = [link for plan in plans for link in plan.links]
    contact_of, created = await _ensure_contacts(conn, user_id, links, me, now)
    return Planned(
        user_id=user_id,
        aliases=frozenset(me.aliases),
        delegates=me.delegates,
        messages=tuple(messages),
        plans=plans,
        contact_of=contact_of,
        created=frozenset(created),
    )


async def _replan(conn: Conn, planned: Planned, me: SelfSet, now: datetime) -> Planned:
    """`_plan` again under grown aliases, re-running `plan_message` only for the messages
    with a participant among the new aliases (a plan depends on `me` only through them)."""
    if not planned.aliases <= me.aliases:
        return await _plan(conn, planned.user_id, me, planned.messages, now)
    new = me.aliases - planned.aliases
    plans = tuple(
        extraction.plan_message(m, me) if _mentions(m, new) else plan
        for m, plan in zip(planned.messages, planned.plans, strict=True)
    )
    # Contacts exist for every address the first plan linked; only an address linked now for
    # the first time (a message no longer automated once its sender is the user) needs one.
    unknown = [
        link for plan in plans for link in plan.links if link.address not in planned.contact_of
    ]
    contact_of, created = dict(planned.contact_of), set[int]()
    if unknown:
        more, created = await _ensure_contacts(conn, planned.user_id, unknown, me, now)
        contact_of.update(more)
    return Planned(
        user_id=planned.user_id,
        aliases=frozenset(me.aliases),
        delegates=me.delegates,
        messages=planned.messages,
        plans=plans,
        contact_of=contact_of,
        created=frozenset(created),
    )


def _mentions(message: MessageInput, emails: set[str]) -> bool:
    for p in message.participants:
        normalized = addresses.normalize_address(p.address)
        if normalized is not None and normalized.email in emails:
            return True
    return False


async def _link_and_count(
    conn: Conn,
    planned: Planned,
    result: ExtractResult,
    *,
    owner: names.PersonName | None,
    now: datetime,
    actor: str,
) -> None:
    user_id, contact_of = planned.user_id, planned.contact_of
    links = [link for plan in planned.plans for link in plan.links]
    reasons = [(p.message_id, p.automated_reason) for p in planned.plans]
    fresh = await contacts_repo.insert_links(conn, user_id, links, reasons)
    result.links += len(fresh)
    extra_votes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for link in fresh:
        if link.display_name and link.address in contact_of:
            extra_votes[contact_of[link.address]][link.display_name] += 1
    names_for = {*extra_votes, *planned.created}  # only new evidence can change a name
    updates = await choose_names(conn, names_for, extra_votes=extra_votes)
    await _record_outcomes(conn, user_id, planned.messages, list(planned.plans), result, now)
    found = await _groups_found(conn, user_id, fresh, planned)
    touched = await contacts_repo.apply_links(conn, user_id, fresh, updates, now, found)  # last
    result.visible_touched |= {cid for cid, visible in touched.items() if visible}
    wrote = {contact_of.get(k.address) for k in fresh if k.role == "received_from"}
    result.held_back |= {cid for cid in wrote if cid is not None and touched.get(cid) is False}
    renamed = [u.id for u in updates if u.identity_key]
    candidates = await contacts_repo.find_merge_candidates(conn, renamed) if renamed else []
    for into_id, from_id, _, into_name, from_name in candidates:
        if names.middles_differ(into_name, from_name):
            continue  # Dana K. Whitfield and Dana R. Whitfield: two people
        merged = await merge_contacts(
            conn, into_id=into_id, from_id=from_id, reason=AUTO_MERGE_REASON, actor=actor, now=now
        )
        result.merges += merged is not None
    named = {u.id for u in updates if u.quality >= names.NameQuality.FULL}
    result.merges += await _merge_by_address(conn, planned, named, actor=actor, now=now)
    result.merges += await _merge_namesakes(conn, planned, named, owner, actor=actor, now=now)


async def _merge_by_address(
    conn: Conn, planned: Planned, named: set[int], *, actor: str, now: datetime
) -> int:
    """Merge the batch's new and newly named contacts with the other addresses of the same
    person that no name key joins (`identity.address_pairs`): a handle known by no name
    (``danaw@acme.com``) at the company host of the one named contact it fits, and one local
    part with one name at two companies. The user's own domains are left out of the handle
    rule (their colleagues are named by the address book)."""
    touched = set(planned.created) | named
    own = extraction.work_domains(planned.aliases)
    mine = [(a, c) for a, c in planned.contact_of.items() if c in touched]
    hosts = {a.rpartition("@")[2] for a, _ in mine if extraction.address_info(a, own).company}
    locals_ = {a.rpartition("@")[0] for a, c in mine if c in named}
    if not hosts and not locals_:
        return 0
    found = await _pair_candidates(conn, planned.user_id, touched, hosts, locals_)
    pairs = [p for p in identity.address_pairs(found, handle_hosts=hosts) if touched & {p[0], p[1]}]
    return await _merge_pairs(conn, planned.user_id, pairs, actor=actor, now=now)


async def _merge_pairs(
    conn: Conn,
    user_id: int,
    pairs: Sequence[tuple[int, int, str]],
    *,
    actor: str,
    now: datetime,
) -> int:
    """Merge each `(into_id, from_id, reason)` the user did not undo; how many merged."""
    if not pairs:
        return 0
    undone = await contacts_repo.undone_merges(conn, user_id, [i for p in pairs for i in p[:2]])
    merges = 0
    for into_id, from_id, reason in pairs:
        if frozenset((into_id, from_id)) not in undone:
            merged = await merge_contacts(
                conn, into_id=into_id, from_id=from_id, reason=reason, actor=actor, now=now
            )
            merges += merged is not None
    return merges


async def _merge_namesakes(
    conn: Conn,
    planned: Planned,
    named: set[int],
    owner: names.PersonName | None,
    *,
    actor: str,
    now: datetime,
) -> int:
    """Merge the only two contacts of the user that carry one full name when one message was
    written to both (`identity.namesake_pairs`: one person's work and home addresses): both
    among the recipients of one of this batch's messages, or a newly named contact and its
    namesake among those of earlier mail."""
    together = _message_contacts(planned)
    people = await contacts_repo.live_people(conn, {*named, *(c for ids in together for c in ids)})
    seen = identity.co_named(together, people)
    paired = {c for pair in seen for c in pair}
    wanted = [
        p
        for c, p in people.items()
        if (c in named or p.contact_id in paired) and p.quality >= names.NameQuality.FULL
    ]
    if not wanted:
        return 0
    namesakes = await contacts_repo.namesakes(conn, planned.user_id, wanted)
    pairs = identity.namesake_pairs(namesakes, owner=owner)
    earlier = [p for p in pairs if p not in seen]
    shown = {p for p in pairs if p in seen}
    shown |= await contacts_repo.pairs_sharing_a_message(conn, planned.user_id, earlier)
    merges = [(a, b, str(identity.PairReason.ONE_MESSAGE)) for a, b in sorted(shown)]
    return await _merge_pairs(conn, planned.user_id, merges, actor=actor, now=now)


def _message_contacts(planned: Planned) -> list[set[int]]:
    """The recipients of each of the batch's messages that has several, by their undamaged
    addresses (a damaged one, ``.john@``, may stand for anyone of a name). Only recipients:
    one namesake writing to the other is a father writing to his son as often as a person
    copying their own other address (`identity.namesake_pairs`)."""
    found = []
    for plan in planned.plans:
        ids = {
            planned.contact_of[link.address]
            for link in plan.links
            if link.role in _RECIPIENT_ROLES
            and link.address in planned.contact_of
            and addresses.address_defect(link.address) is None
        }
        if len(ids) > 1:
            found.append(ids)
    return found


async def _pair_candidates(
    conn: Conn, user_id: int, touched: set[int], hosts: set[str], locals_: set[str]
) -> list[identity.AddressCandidate]:
    """What `identity.address_pairs` needs to pair the `touched` contacts, read by key rather
    than every person at their hosts: their own addresses at `hosts` (or with `locals_`); the
    nameless people at the handles their names make there; and the fully named people whose
    name could make one of those nameless handles, or who share a touched contact's family
    name (one local part at two companies)."""
    own = await contacts_repo.address_candidates_of(conn, user_id, touched, hosts, locals_)
    handles = identity.handle_addresses(own, hosts)
    at = await contacts_repo.address_candidates_at(conn, user_id, handles, hosts)
    keys = identity.pairing_keys([*own, *at], hosts)
    named = await contacts_repo.address_candidates_named(conn, user_id, keys, hosts, locals_)
    unique = {(c.contact_id, c.address): c for c in (*own, *at, *named)}
    return [unique[k] for k in sorted(unique)]


async def _groups_found(
    conn: Conn, user_id: int, fresh: Sequence[Link], planned: Planned
) -> dict[int, str]:
    """Contacts this batch shows to be groups, for `apply_links` to mark: by their address or
    display names (`groups.group_reason`), or because their address fans mail out to the user
    (the batch's evidence recorded, then checked over all the user's evidence for the
    addresses that did so in this batch)."""
    contact_of = planned.contact_of
    names_of: dict[str, set[str]] = defaultdict(set)
    for link in fresh:
        names_of[link.address].add(link.display_name)
    found: dict[int, str] = {}
    for address, seen in names_of.items():
        reason = groups.group_reason(address, seen)
        if reason is not None and address in contact_of:
            found[contact_of[address]] = str(reason)
    evidence = _fanout_evidence(planned)
    keep = groups.FANOUT_MIN_MESSAGES
    await contacts_repo.add_fanout_evidence(conn, user_id, evidence, keep=keep)
    wanted = {contact_of[e.address] for e in evidence if e.address in contact_of} - found.keys()
    candidates = await contacts_repo.fanout_candidates(
        conn,
        user_id,
        sorted(wanted),
        min_messages=groups.FANOUT_MIN_MESSAGES,
        min_senders=groups.FANOUT_MIN_SENDERS,
    )
    for contact_id, address in candidates:
        if not groups.looks_like_owner(address, planned.aliases):
            found[contact_id] = str(groups.GroupReason.FANOUT)
    return found


def _fanout_evidence(planned: Planned) -> list[contacts_repo.FanoutEvidence]:
    """The batch's messages that reached the user without naming the user, an alias or a
    delegate: their only To/Cc address and their sender (the first few of each pair: the
    rule counts only up to `groups.FANOUT_MIN_MESSAGES`)."""
    me = planned.aliases | planned.delegates
    evidence = []
    kept: dict[tuple[str, str], int] = defaultdict(int)
    for message in sorted(planned.messages, key=lambda m: m.id):
        pairs = []
        for p in message.participants:
            normalized = addresses.normalize_address(p.address, keep_damaged=True)
            if normalized is not None:
                pairs.append((p.role, normalized.email))
        sole = groups.sole_recipient(pairs, me)
        if sole is None:
            continue
        sender = next((a for role, a in pairs if role == "from"), "")
        kept[sole, sender] += 1
        if kept[sole, sender] <= groups.FANOUT_MIN_MESSAGES:
            evidence.append(
                contacts_repo.FanoutEvidence(address=sole, sender=sender, message_id=message.id)
            )
    return evidence


async def _ensure_contacts(
    conn: Conn, user_id: int, links: list[Link], me: SelfSet, now: datetime
) -> tuple[dict[str, int], set[int]]:
    """Companies and contacts for every linked address: contact id per address, ids created
    (a damaged address with its defect; a group address as a group)."""
    infos = [
        extraction.address_info(a, me.own_domains) for a in sorted({link.address for link in links})
    ]
    wanted = {i.company.domain: i.company.name for i in infos if i.company is not None}
    company_ids = await contacts_repo.ensure_companies(conn, user_id, wanted, now)
    rows = [
        {
            "address": info.address,
            "company_id": company_ids.get(info.company.domain) if info.company else None,
            "is_internal": info.internal,
            "defect": addresses.address_defect(info.address),
        }
        for info in infos
    ]
    return await contacts_repo.ensure_contacts(conn, user_id, rows, now)


async def _record_outcomes(
    conn: Conn,
    user_id: int,
    messages: Sequence[MessageInput],
    plans: list[MessagePlan],
    result: ExtractResult,
    now: datetime,
) -> None:
    dates = {m.id: m.date for m in messages}
    bounces = [(a, p.message_id, dates[p.message_id]) for p in plans for a in p.bounced]
    await contacts_repo.mark_bounced(conn, user_id, bounces)
    result.automated += sum(1 for p in plans if p.automated_reason)
    result.bounced += len(bounces)


# -- names ------------------------------------------------------------------------------------


async def choose_names(
    conn: Conn,
    contact_ids: Sequence[int] | set[int],
    *,
    extra_votes: Mapping[int, Mapping[str, int]] | None = None,
) -> list[contacts_repo.NameUpdate]:
    """The contacts whose best name (by votes across their addresses) changed.

    `extra_votes` adds display names not yet in the votes table (this batch's new links).
    """
    if not contact_ids:
        return []
    evidence = await contacts_repo.load_name_evidence(conn, sorted(contact_ids))
    if extra_votes:
        evidence = [
            _with_votes(e, extra)
            for e in evidence
            if not _agrees(e, extra := extra_votes.get(e.contact_id, {}))
        ]
    return [u for e in evidence if (u := _name_update(e)) is not None]


def _agrees(evidence: contacts_repo.NameEvidence, extra: Mapping[str, int]) -> bool:
    """New votes that all spell the contact's current full name cannot change it (the
    common case, skipped without re-ranking every name seen)."""
    if evidence.quality < names.NameQuality.FULL or not extra:
        return False
    current = f"{evidence.first_name} {evidence.last_name}".casefold().replace(".", "").strip()
    for display in extra:
        parsed = names.parse_display_name(display, evidence.primary_address)
        if parsed is None or parsed.quality < names.NameQuality.FULL or parsed.key != current:
            return False
    return True


async def refresh_names(
    conn: Conn, contact_ids: Sequence[int] | set[int], now: datetime
) -> list[int]:
    """Store re-chosen names of contacts; ids whose identity key is now set."""
    updates = await choose_names(conn, contact_ids)
    await contacts_repo.update_names(conn, updates, now)
    return [u.id for u in updates if u.identity_key]


def _with_votes(
    evidence: contacts_repo.NameEvidence, extra: Mapping[str, int]
) -> contacts_repo.NameEvidence:
    if not any(extra.values()):
        return evidence
    votes = dict(evidence.votes)
    for name, count in extra.items():
        if count:
            votes[name] = votes.get(name, 0) + count
    return dataclasses.replace(evidence, votes=tuple(sorted(votes.items())))


def _name_update(evidence: contacts_repo.NameEvidence) -> contacts_repo.NameUpdate | None:
    person = names.best_name(evidence.votes, evidence.primary_address)
    if person is None:
        first = last = full = ""
        quality = 0
    else:
        first, last, full, quality = person.first, person.last, person.full, int(person.quality)
    current = (evidence.name, evidence.first_name, evidence.last_name, evidence.quality)
    if current == (full, first, last, quality):
        return None
    key = (
        extraction.identity_key(first, last, evidence.primary_address)
        if quality >= names.NameQuality.FULL or names.is_spelled_out(person)
        else None
    )
    return contacts_repo.NameUpdate(
        id=evidence.contact_id,
        name=full,
        first_name=first,
        last_name=last,
        quality=quality,
        identity_key=key,
    )


# -- merges -----------------------------------------------------------------------------------


async def merge_contacts(
    conn: Conn, *, into_id: int, from_id: int, reason: str, actor: str, now: datetime
) -> int | None:
    """Move every address of `from_id` to `into_id` and record it (reversible with `unmerge`).

    The rest of what `from_id` had goes to `into_id` too (record_merge.sql): its tags, notes
    and mentions, list memberships, its cadence with its follow-up when `into_id` has none,
    and the name, company, title and phone the user set where `into_id` has none set.
    Returns the merge id, or None when either contact is gone, already merged or another
    user's.
    """
    locked = await contacts_repo.lock_contacts(conn, [into_id, from_id])
    into, source = locked.get(into_id), locked.get(from_id)
    if into is None or source is None or into_id == from_id:
        return None
    if into["user_id"] != source["user_id"] or into["merged_into_id"] or source["merged_into_id"]:
        return None
    moved = await contacts_repo.move_addresses(conn, from_id, into_id)
    merge_id = await contacts_repo.record_merge(
        conn,
        user_id=into["user_id"],
        into_id=into_id,
        from_id=from_id,
        addresses=moved,
        reason=reason,
        actor=actor,
        now=now,
    )
    await contacts_repo.recompute_counts(conn, [into_id, from_id], now)
    await refresh_names(conn, [into_id], now)
    await contacts_repo.save_facts(conn, into_id, [])  # a title or phone it took is current
    log.info(
        "contacts merged",
        extra={
            "action": "contacts.merged",
            "merge_id": merge_id,
            "into_id": into_id,
            "from_id": from_id,
            "reason": reason,
        },
    )
    return merge_id


async def unmerge(conn: Conn, merge_id: int, *, actor: str, now: datetime) -> bool:
    """Undo a merge: its addresses go back to the absorbed contact, and so does what else the
    merge moved (record_unmerge.sql); the survivor gives back what it took. Counts, names and
    current facts are recomputed.

    An undone pair is never merged automatically again. False when already undone.
    """
    merge = await contacts_repo.get_merge(conn, merge_id)
    if merge is None or merge.unmerged_on is not None:
        return False
    ids = [merge.into_contact_id, merge.from_contact_id]
    await contacts_repo.lock_contacts(conn, ids)
    await contacts_repo.move_addresses(
        conn, merge.into_contact_id, merge.from_contact_id, merge.addresses
    )
    if not await contacts_repo.record_unmerge(conn, merge_id, actor, now):
        return False
    await contacts_repo.recompute_counts(conn, ids, now)
    await refresh_names(conn, ids, now)
    await contacts_repo.save_facts(conn, merge.into_contact_id, [])  # what it gave back
    log.info("contacts unmerged", extra={"action": "contacts.unmerged", "merge_id": merge_id})
    return True


# -- enrichment ---------------------------------------------------------------------------------


async def enrich_contact(
    conn: Conn,
    contact_id: int,
    *,
    providers: Sequence[enrichment.EnrichmentProvider],
    now: datetime,
    message_limit: int = enrichment.RECENT_MESSAGES,
) -> dict[str, Any]:
    """Run every provider for one contact and store the facts they return."""
    row = await contacts_repo.get_contact(conn, contact_id)
    if row is None or row["merged_into_id"] is not None or row["suppressed_reason"]:
        return {"status": "skipped"}
    left = await _leave_free_mail_company(conn, row, now)
    if left:
        row = {**row, "company_id": None, "company_domain": None}
    request = enrichment.EnrichmentRequest(
        contact_id=contact_id,
        primary_address=row["primary_address"],
        name=row["name"],
        addresses=tuple(row["addresses"]),
        company_domain=row["company_domain"],
        messages=tuple(await contacts_repo.recent_messages(conn, contact_id, message_limit)),
        now=now,
    )
    facts: list[contacts_repo.Fact] = []
    for provider in providers:
        facts += await provider.enrich(request)
    await contacts_repo.save_facts(conn, contact_id, facts)
    if row["company_id"] is not None:
        company = enrichment.company_update(facts, row["company_domain"])
        await contacts_repo.update_company(
            conn, row["company_id"], name=company.name, website=company.website, now=now
        )
    output = {"status": "ok", "facts": len(facts), "messages": len(request.messages)}
    return {**output, "left_company": True} if left else output


async def _leave_free_mail_company(conn: Conn, row: dict[str, Any], now: datetime) -> bool:
    """A contact that mail linked to a company of a free-mail or consumer-ISP domain (made
    before the domain was known as one: "Rr", "Comcast") leaves it when it is enriched again."""
    domain = row["company_domain"]
    if row["company_id"] is None or row["company_source"] != "mail" or domain is None:
        return False
    if not companies.is_free_mail_domain(domain):
        return False
    return await contacts_repo.leave_free_mail_company(conn, row["id"], row["company_id"], now)
