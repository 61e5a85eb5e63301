"""A connection's explanation and its people who wrote (`policy_explain.sql`,
`policy_waiting.sql`, read from the people's side since 0045) pinned on small hand-built mail:
a message in two folders or in two connections, a person with two addresses, a contact seen
only in cc, a person written to, merged and suppressed people, mail not extracted or
automated, and another user's mail beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import policy, policy_repo
from fluffymail.crm.contacts.extraction import Policy
from fluffymail.crm.contacts.policy_repo import Counts

T0 = datetime(2024, 3, 1, tzinfo=UTC)


async def _id(conn, sql: str, params: tuple[object, ...] = ()) -> int:  # type: ignore[no-untyped-def]
    row = await (await conn.execute(sql, params)).fetchone()
    return int(row[0])


class Mail:
    """One user's connections, folders, messages, people and links, written as rows."""

    def __init__(self, conn, user_id: int) -> None:  # type: ignore[no-untyped-def]
        self.conn, self.user_id, self.n = conn, user_id, 0
        self.people: dict[str, int] = {}

    async def connection(self, source: str, *folders: str) -> tuple[int, list[int]]:
        cid = await _id(
            self.conn,
            "INSERT INTO crm.connections (user_id, kind, source) VALUES (%s, 'mbox', %s)"
            " RETURNING id",
            (self.user_id, source),
        )
        ids = [
            await _id(
                self.conn,
                "INSERT INTO crm.folders (connection_id, name) VALUES (%s, %s) RETURNING id",
                (cid, name),
            )
            for name in folders
        ]
        return cid, ids

    async def person(
        self, *addresses: str, created: bool = False, merged: bool = False,
        suppressed: bool = False,
    ) -> int:  # fmt: skip
        pid = await _id(
            self.conn,
            "INSERT INTO crm.contacts (user_id, primary_address, name, created, suppressed_reason)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (self.user_id, addresses[0], addresses[0].split("@")[0].title(), created,
             "bounced" if suppressed else None),
        )  # fmt: skip
        if merged:
            into = await self.person(f"into-{addresses[0]}", created=True)
            await self.conn.execute(
                "UPDATE crm.contacts SET merged_into_id = %s WHERE id = %s", (into, pid)
            )
        for address in addresses:
            await self.conn.execute(
                "INSERT INTO crm.contact_addresses (user_id, address, contact_id) VALUES (%s, %s, %s)",
                (self.user_id, address, pid),
            )
            self.people[address] = pid
        return pid

    async def message(
        self, folders: list[int], links: dict[str, str], *, days: int | None = 0,
        extracted: bool = True, automated: bool = False,
    ) -> int:  # fmt: skip
        """A message in `folders` (folder ids, one may repeat: two copies) with `links`
        (address -> role), `days` after T0 (None: undated)."""
        self.n += 1
        mid = await _id(
            self.conn,
            "INSERT INTO crm.messages (user_id, dedup_key) VALUES (%s, %s) RETURNING id",
            (self.user_id, f"k{self.user_id}-{self.n}"),
        )
        for i, folder in enumerate(folders):
            await self.conn.execute(
                "INSERT INTO crm.message_folders (folder_id, source_id, message_id)"
                " VALUES (%s, %s, %s)",
                (folder, f"s{self.n}-{i}", mid),
            )
        on = None if days is None else T0 + timedelta(days=days)
        for address, role in links.items():
            await self.conn.execute(
                "INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on,"
                " visible) VALUES (%s, %s, %s, %s, %s, false)",
                (mid, address, role, self.user_id, on),
            )
        if extracted:
            await self.conn.execute(
                "DELETE FROM crm.message_pending WHERE user_id = %s AND message_id = %s",
                (self.user_id, mid),
            )
        if automated:
            await self.conn.execute(
                "INSERT INTO crm.message_automated (user_id, message_id, reason)"
                " VALUES (%s, %s, 'list')",
                (self.user_id, mid),
            )
        return mid


async def _user(conn, email: str) -> int:  # type: ignore[no-untyped-def]
    return await _id(conn, "INSERT INTO crm.users (email) VALUES (%s) RETURNING id", (email,))


async def test_explanation_and_people_who_wrote__counted_once_per_person_and_message(
    pool: AsyncConnectionPool,
) -> None:
    async with pool.connection() as conn, conn.transaction():
        me = Mail(conn, await _user(conn, "me@example.com"))
        main, (inbox, archive) = await me.connection("/mail/main", "INBOX", "Archive")
        other, (elsewhere,) = await me.connection("/mail/other", "INBOX")
        ann = await me.person("ann@a.example", "ann@home.example")  # two addresses
        bob = await me.person("bob@b.example")
        cy = await me.person("cy@c.example")
        await me.person("dee@d.example", created=True)  # a contact who wrote
        await me.person("eve@e.example", created=True)  # a contact seen in cc only
        await me.person("fay@f.example")  # written to, never wrote
        await me.person("gus@g.example", merged=True)
        await me.person("hal@h.example", suppressed=True)
        await me.person("ivy@i.example")  # wrote through the other connection only

        # ann: 3 messages here, one in both folders, one in both connections, one from both
        # of her addresses at once; latest on day 5
        await me.message([inbox, archive], {"ann@a.example": "received_from"}, days=1)
        await me.message([inbox, elsewhere], {"ann@home.example": "received_from"}, days=5)
        await me.message(
            [archive], {"ann@a.example": "received_from", "ann@home.example": "received_from"},
            days=3,
        )  # fmt: skip
        # bob: 3 too, his latest on day 4 (after ann: same count, her latest is later);
        # cy: 1, undated
        for day in (2, 4, 4):
            await me.message([inbox], {"bob@b.example": "received_from", "eve@e.example": "cc"},
                             days=day)  # fmt: skip
        await me.message([archive], {"cy@c.example": "received_from"}, days=None)
        await me.message([inbox], {"dee@d.example": "received_from"}, days=6)
        await me.message([inbox], {"fay@f.example": "sent_to"}, days=7, automated=True)
        await me.message([inbox], {"gus@g.example": "received_from"}, days=8)
        await me.message([inbox], {"hal@h.example": "received_from"}, days=9)
        await me.message([elsewhere], {"ivy@i.example": "received_from"}, days=10)
        await me.message([inbox], {"nobody@z.example": "received_from"}, extracted=False)
        await me.message([archive], {}, extracted=False, automated=True)

        them = Mail(conn, await _user(conn, "them@example.com"))
        theirs, (their_inbox,) = await them.connection("/mail/theirs", "INBOX")
        await them.person("ann@a.example")
        for _ in range(4):
            await them.message([their_inbox], {"ann@a.example": "received_from"}, days=20)

    async with pool.connection() as conn:
        counts = await policy_repo.counts(conn, me.user_id, main)
        assert counts == Counts(
            policy=Policy.SENT,
            messages=13,  # the message in two folders once; not ivy's (the other connection)
            pending=2,
            automated=2,
            wrote=4,  # ann, bob, cy, dee (gus merged, hal suppressed, ivy elsewhere)
            waiting=3,
            written_to=1,  # fay
            contacts=2,  # dee, and eve from a cc
        )
        senders, total = await policy_repo.waiting(conn, me.user_id, main, limit=10, offset=0)
        assert total == 3
        assert [(s.contact_id, s.address, s.messages, s.last_on) for s in senders] == [
            (ann, "ann@a.example", 3, T0 + timedelta(days=5)),
            (bob, "bob@b.example", 3, T0 + timedelta(days=4)),
            (cy, "cy@c.example", 1, None),
        ]
        assert senders[0].name == "Ann"
        page, total = await policy_repo.waiting(conn, me.user_id, main, limit=2, offset=1)
        assert ([s.contact_id for s in page], total) == ([bob, cy], 3)
        assert await policy_repo.waiting(conn, me.user_id, main, limit=5, offset=3) == ([], 0)

        elsewhere_counts = await policy_repo.counts(conn, me.user_id, other)
        assert elsewhere_counts is not None
        assert (elsewhere_counts.messages, elsewhere_counts.wrote, elsewhere_counts.waiting) == (
            2, 2, 2,
        )  # fmt: skip
        senders, total = await policy_repo.waiting(conn, me.user_id, other, limit=10, offset=0)
        # the same count: the later one first
        assert [(s.address, s.messages) for s in senders] == [
            ("ivy@i.example", 1), ("ann@a.example", 1),
        ]  # fmt: skip

        # another user's connection is a missing one, for both reads
        assert await policy_repo.counts(conn, me.user_id, theirs) is None
        assert await policy.explain(conn, me.user_id, theirs) is None
        assert await policy_repo.waiting(conn, me.user_id, theirs, limit=10, offset=0) == ([], 0)
        theirs_counts = await policy_repo.counts(conn, them.user_id, theirs)
        assert theirs_counts is not None
        assert (theirs_counts.messages, theirs_counts.wrote, theirs_counts.waiting) == (4, 1, 1)


async def test_explanation__a_connection_without_people_counts_zero(
    pool: AsyncConnectionPool,
) -> None:
    async with pool.connection() as conn, conn.transaction():
        me = Mail(conn, await _user(conn, "solo@example.com"))
        empty, _ = await me.connection("/mail/empty", "INBOX")
    async with pool.connection() as conn:
        assert await policy_repo.counts(conn, me.user_id, empty) == Counts(
            policy=Policy.SENT, messages=0, pending=0, automated=0, wrote=0, waiting=0,
            written_to=0, contacts=0,
        )  # fmt: skip
        assert await policy_repo.waiting(conn, me.user_id, empty, limit=10, offset=0) == ([], 0)
