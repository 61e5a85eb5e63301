"""Creation policies explained and applied: what a connection's policy made of the people in
its mail (in words for the import summary, the connections page and job output), the people
it held back, adding them, and re-applying a changed policy to mail already extracted.

Runs inside the caller's transaction; knows nothing of HTTP or the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fluffymail.crm.contacts import extraction
from fluffymail.crm.contacts import policy_repo as repo
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts.extraction import Policy, SelfSet

__all__ = [
    "DESCRIPTIONS",
    "Explanation",
    "ReapplyBatch",
    "explain",
    "keep",
    "pending",
    "people_line",
    "reapply_batch",
    "set_policy",
    "waiting",
]

REAPPLY_BATCH = 1000  # messages re-planned per transaction

DESCRIPTIONS = {
    Policy.SENT: "people you write to become contacts; people who only wrote to you wait"
    " until you write to them or add them",
    Policy.SENT_AND_RECEIVED: "everyone who writes to you or whom you write to becomes a contact",
    Policy.NONE: "this mailbox creates no contacts (its mail still counts for people who are)",
}


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n:,} people"


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """What importing a connection made of its people, with the sentence that says so."""

    counts: repo.Counts

    @property
    def policy(self) -> Policy:
        return self.counts.policy

    @property
    def sentence(self) -> str:
        """One line: who became a contact and why the others did not (yet)."""
        return people_line(self.counts)

    def as_output(self) -> dict[str, object]:
        c = self.counts
        return {
            "policy": str(c.policy),
            "messages": c.messages,
            "pending": c.pending,
            "automated": c.automated,
            "wrote": c.wrote,
            "waiting": c.waiting,
            "written_to": c.written_to,
            "contacts": c.contacts,
            "explanation": self.sentence,
        }


def people_line(c: repo.Counts) -> str:
    """The import's explanation, e.g. "74 people wrote to you; they become contacts once you
    write to them or when you add them"."""
    if c.messages and c.pending == c.messages:
        return "Finding the people in this mail…"
    parts: list[str] = []
    if c.waiting and c.policy is Policy.NONE:
        parts.append(
            f"{_people(c.waiting)} wrote to you; this mailbox creates no contacts"
            " (change that below, or add them yourself)"
        )
    elif c.waiting and c.policy is Policy.SENT_AND_RECEIVED:
        parts.append(f"{_people(c.waiting)} who wrote to you are being added as contacts")
    elif c.waiting:
        they = "they become contacts" if c.waiting > 1 else "they become a contact"
        wrote = f"{_people(c.waiting)} wrote to you"
        if c.contacts:
            became = "became a contact" if c.contacts == 1 else "became contacts"
            others = "1 other person" if c.waiting == 1 else f"{c.waiting:,} others"
            wrote = f"{_people(c.contacts)} {became}; {others} wrote to you"
        parts.append(f"{wrote}; {they} once you write to them or when you add them")
    elif c.contacts:
        verb = "is a contact" if c.contacts == 1 else "are contacts"
        parts.append(f"{_people(c.contacts)} in this mail {verb}")
    else:
        parts.append("No people found in this mail yet")
    if c.automated:
        noun = "message was" if c.automated == 1 else "messages were"
        parts.append(f"{c.automated:,} {noun} newsletters or automated mail")
    if c.pending:
        parts.append(f"{c.pending:,} still being read")
    return "; ".join(parts) + "."


async def explain(conn: contacts_repo.Conn, user_id: int, connection_id: int) -> Explanation | None:
    """None when the connection is not the user's."""
    counts = await repo.counts(conn, user_id, connection_id)
    return Explanation(counts=counts) if counts is not None else None


async def keep(
    conn: contacts_repo.Conn, user_id: int, contact_ids: Sequence[int], *, now: datetime
) -> list[int]:
    """Add people as contacts for good (no policy change hides them); the ids added."""
    return await repo.keep(conn, user_id, contact_ids, now)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReapplyBatch:
    """One re-planned page of a connection's mail: where it ended and what changed."""

    last_id: int | None  # None: no more messages
    messages: int = 0
    addresses: int = 0  # addresses whose links changed
    shown: tuple[int, ...] = ()  # contacts now visible
    hidden: tuple[int, ...] = ()  # contacts now hidden


async def reapply_batch(
    conn: contacts_repo.Conn,
    user_id: int,
    connection_id: int,
    *,
    after_id: int,
    now: datetime,
    limit: int = REAPPLY_BATCH,
) -> ReapplyBatch:
    """Plan the next `limit` extracted messages of the connection again under the policies
    their connections have now, store each link's new visibility and show or hide the
    contacts concerned (the user's work stays visible). Idempotent; call in a transaction.

    Holds the user's extraction lock exclusively, so no batch planned under the old policy
    is half-written around it.
    """
    await contacts_repo.lock_user(conn, user_id, exclusive=True)
    ids = await repo.message_ids(conn, user_id, connection_id, after_id=after_id, limit=limit)
    if not ids:
        return ReapplyBatch(last_id=None)
    user = (await contacts_repo.load_self(conn, [user_id]))[user_id]
    me = SelfSet.build(user.email, user.aliases, user.delegates)
    messages = await contacts_repo.load_messages(conn, ids)
    links = [link for m in messages for link in extraction.plan_message(m, me).links]
    changed = await repo.set_visible(conn, links)
    flipped = await repo.refresh(conn, user_id, changed, now)
    return ReapplyBatch(
        last_id=ids[-1],
        messages=len(ids),
        addresses=len(changed),
        shown=tuple(sorted(c for c, v in flipped.items() if v)),
        hidden=tuple(sorted(c for c, v in flipped.items() if not v)),
    )


async def set_policy(
    conn: contacts_repo.Conn, user_id: int, connection_id: int, policy: Policy
) -> bool:
    """Store a connection's policy (the caller enqueues its re-application in the same
    transaction); False when the connection is not the user's or is being deleted."""
    return await repo.set_policy(conn, user_id, connection_id, policy)


async def pending(conn: contacts_repo.Conn, user_id: int, connection_id: int) -> int:
    """Messages of the connection not yet extracted."""
    return await repo.pending(conn, user_id, connection_id)


async def waiting(
    conn: contacts_repo.Conn, user_id: int, connection_id: int, *, limit: int, offset: int
) -> tuple[list[repo.Sender], int]:
    """People who wrote through the connection and are not contacts, and how many."""
    return await repo.waiting(conn, user_id, connection_id, limit=limit, offset=offset)
