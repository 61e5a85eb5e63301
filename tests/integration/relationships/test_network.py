"""Who knows whom on a small synthetic team: introductions, best paths in, warm intros, rollups.

Workspace "acme" = alice + bob, workspace "side" = bob + carol: alice must never see carol.
Rows are inserted directly (no import, no analysis job), so each test states its own facts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.relationships import network
from fluffymail.crm.relationships.models import Level
from fluffymail.crm.relationships.scoring import level_for

NOW = datetime(2024, 6, 1, tzinfo=UTC)
Conn = psycopg.AsyncConnection[Any]


@dataclass
class World:
    """Inserts users, workspaces, companies, contacts, relationships and messages."""

    conn: Conn
    users: dict[str, int] = field(default_factory=dict)
    emails: dict[int, str] = field(default_factory=dict)

    async def one(self, query: str, *params: Any) -> Any:
        row = await (await self.conn.execute(query, params)).fetchone()
        return row[0] if row else None

    async def user(self, email: str) -> int:
        uid = await self.one(
            "INSERT INTO crm.users (email, name) VALUES (%s, %s) RETURNING id",
            email,
            email.split("@")[0].title(),
        )
        await self.conn.execute(
            "INSERT INTO crm.user_aliases (user_id, address, source) VALUES (%s, %s, 'owner')",
            (uid, email),
        )
        self.users[email], self.emails[uid] = uid, email
        return uid

    async def workspace(self, name: str, *members: int) -> int:
        wid = await self.one("INSERT INTO crm.workspaces (name) VALUES (%s) RETURNING id", name)
        for uid in members:
            await self.conn.execute(
                "INSERT INTO crm.workspace_members (workspace_id, user_id) VALUES (%s, %s)",
                (wid, uid),
            )
        return wid

    async def company(self, uid: int, domain: str) -> int:
        return await self.one(
            "INSERT INTO crm.companies (user_id, domain, name) VALUES (%s, %s, %s) RETURNING id",
            uid,
            domain,
            domain.split(".")[0].title(),
        )

    async def contact(
        self,
        uid: int,
        *addresses: str,
        name: str = "",
        company: int | None = None,
        internal: bool = False,
        score: float | None = None,
        last_at: datetime | None = None,
    ) -> int:
        cid = await self.one(
            "INSERT INTO crm.contacts (user_id, primary_address, name, company_id, is_internal,"
            " created) VALUES (%s, %s, %s, %s, %s, true) RETURNING id",
            uid,
            addresses[0],
            name or addresses[0].split("@")[0].title(),
            company,
            internal,
        )
        for address in addresses:
            await self.conn.execute(
                "INSERT INTO crm.contact_addresses (user_id, address, contact_id) VALUES (%s, %s, %s)",
                (uid, address, cid),
            )
        if score is not None:
            await self.relationship(uid, cid, score, last_at=last_at)
        return cid

    async def relationship(
        self, uid: int, cid: int, score: float, *, last_at: datetime | None = None
    ) -> None:
        evidence = [{"text": f"score {score} evidence", "message_ids": ["1"]}]
        await self.conn.execute(
            "INSERT INTO crm.relationships (user_id, contact_id, score, level, trend, last_at,"
            " evidence) VALUES (%s, %s, %s, %s, 'steady', %s, %s)",
            (uid, cid, score, level_for(score).value, last_at or NOW, Jsonb(evidence)),
        )

    async def message(
        self,
        uid: int,
        sender: str,
        to: Sequence[str] = (),
        cc: Sequence[str] = (),
        *,
        at: datetime,
        thread: str | None = None,
    ) -> int:
        """A message in `uid`'s mailbox with its participants and contact links."""
        thread_id = None
        if thread:
            thread_id = await self.one(
                "INSERT INTO crm.threads (user_id, key) VALUES (%s, %s)"
                " ON CONFLICT (user_id, key) DO UPDATE SET key = EXCLUDED.key RETURNING id",
                uid,
                thread,
            )
        mid = await self.one(
            "INSERT INTO crm.messages (user_id, dedup_key, thread_id, from_address, date)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            uid,
            f"fp:{uuid.uuid4().hex}",
            thread_id,
            sender,
            at,
        )
        people = [("from", 0, sender)]
        people += [("to", i, a) for i, a in enumerate(to)]
        people += [("cc", i, a) for i, a in enumerate(cc)]
        for role, position, address in people:
            await self.conn.execute(
                "INSERT INTO crm.message_participants (message_id, role, position, address)"
                " VALUES (%s, %s, %s, %s)",
                (mid, role, position, address),
            )
        await self._links(uid, mid, sender, [*to, *cc], at, to)
        return mid

    async def _links(
        self,
        uid: int,
        mid: int,
        sender: str,
        recipients: list[str],
        at: datetime,
        to: Sequence[str],
    ) -> None:
        own = self.emails[uid]
        if sender == own:
            links = [(a, "sent_to" if a in to else "cc") for a in recipients]
        else:
            links = [(sender, "received_from")] + [(a, "cc") for a in recipients if a != own]
        for address, role in links:
            await self.conn.execute(
                "INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on,"
                " visible) VALUES (%s, %s, %s, %s, %s, true) ON CONFLICT DO NOTHING",
                (mid, address, role, uid, at),
            )
        # what extraction keeps: the contacts' first and last interaction
        await self.conn.execute(
            "UPDATE crm.contacts c SET first_interaction_on = least(c.first_interaction_on, %s),"
            " last_interaction_on = greatest(c.last_interaction_on, %s)"
            " FROM crm.contact_addresses a WHERE a.user_id = %s AND a.address = ANY(%s)"
            " AND c.id = a.contact_id",
            (at, at, uid, [address for address, _ in links]),
        )


@pytest.fixture
async def conn(pool: AsyncConnectionPool) -> AsyncIterator[Conn]:
    async with pool.connection() as connection:
        yield connection


@pytest.fixture
async def team(conn: Conn) -> World:
    world = World(conn)
    alice = await world.user("alice@acme.com")
    bob = await world.user("bob@acme.com")
    carol = await world.user("carol@side.io")
    await world.workspace("acme", alice, bob)
    await world.workspace("side", bob, carol)
    return world


def day(n: int) -> datetime:
    return NOW - timedelta(days=n)


# -- introductions --------------------------------------------------------------------------


async def test_introductions__affinity_rule_on_crafted_threads(team: World, conn: Conn) -> None:
    w, alice = team, team.users["alice@acme.com"]
    zoe = await w.contact(alice, "zoe@partner.com")
    victor = await w.contact(alice, "victor@client.com")
    walter = await w.contact(alice, "walter@client.com")
    xena = await w.contact(alice, "xena@client.com")
    ivan = await w.contact(alice, "ivan@acme.com", internal=True)
    ursula = await w.contact(alice, "ursula@else.org")
    bob_c = await w.contact(alice, "bob@acme.com", internal=True)
    # a third party's first email cc'ing the contact: the third party introduced them
    intro = await w.message(
        alice, "zoe@partner.com", ["alice@acme.com"], ["victor@client.com"], at=day(30)
    )
    await w.message(alice, "victor@client.com", ["alice@acme.com"], at=day(20))
    # the contact wrote first, to a teammate (To) before the user: the teammate
    by_bob = await w.message(
        alice, "walter@client.com", ["bob@acme.com", "alice@acme.com"], at=day(25)
    )
    # the contact wrote first with no internal person on To, a colleague first on Cc
    by_ivan = await w.message(
        alice,
        "xena@client.com",
        ["yuri@client.com"],
        ["ivan@acme.com", "alice@acme.com"],
        at=day(24),
    )
    # the user wrote first
    direct = await w.message(alice, "alice@acme.com", ["ursula@else.org"], at=day(10))

    changed = await network.record_introductions(conn, alice, [zoe, victor, walter, xena, ursula])

    assert changed == 5
    got = {
        c: await network.get_introduction(conn, alice, c)
        for c in (zoe, victor, walter, xena, ursula)
    }
    assert got[victor] is not None and got[victor].introducer == "zoe@partner.com"
    assert got[victor].introducer_contact_id == zoe and not got[victor].is_self
    assert got[victor].message_id == intro and got[victor].introduced_on == day(30)
    assert got[zoe] is not None and got[zoe].is_self and got[zoe].introducer == "alice@acme.com"
    assert got[walter] is not None and got[walter].introducer == "bob@acme.com"
    assert got[walter].introducer_contact_id == bob_c and got[walter].message_id == by_bob
    assert got[xena] is not None and got[xena].introducer == "ivan@acme.com"
    assert got[xena].introducer_contact_id == ivan and got[xena].message_id == by_ivan
    assert got[ursula] is not None and got[ursula].is_self and got[ursula].message_id == direct
    assert got[ursula].introducer_name == "Alice"


async def test_introductions__idempotent_and_follow_an_earlier_message(
    team: World, conn: Conn
) -> None:
    w, alice = team, team.users["alice@acme.com"]
    victor = await w.contact(alice, "victor@client.com", "v@client.com")
    await w.message(alice, "zoe@partner.com", ["alice@acme.com", "victor@client.com"], at=day(30))
    assert await network.record_introductions(conn, alice, [victor, victor]) == 1
    assert await network.record_introductions(conn, alice, [victor]) == 0  # nothing changed

    # an older message under the contact's other address turns up (a later import)
    older = await w.message(alice, "v@client.com", ["alice@acme.com"], at=day(300))
    assert await network.record_introductions(conn, alice, [victor]) == 1
    got = await network.get_introduction(conn, alice, victor)
    assert got is not None and got.is_self and got.message_id == older
    # without the first-interaction date (or a stale one) the contact's links are scanned
    await conn.execute(
        "UPDATE crm.contacts SET first_interaction_on = NULL WHERE id = %s", (victor,)
    )
    await conn.execute("DELETE FROM crm.introductions")
    assert await network.record_introductions(conn, alice, [victor]) == 1
    again = await network.get_introduction(conn, alice, victor)
    assert again is not None and again.message_id == older


async def test_introductions__unknown_foreign_and_mailless_ids(team: World, conn: Conn) -> None:
    w, alice, bob = team, team.users["alice@acme.com"], team.users["bob@acme.com"]
    bobs = await w.contact(bob, "victor@client.com")
    await w.message(bob, "victor@client.com", ["bob@acme.com"], at=day(3))
    silent = await w.contact(alice, "silent@client.com")

    assert await network.record_introductions(conn, alice, []) == 0
    assert await network.record_introductions(conn, alice, [bobs, 999_999, silent]) == 0
    assert await network.get_introduction(conn, alice, bobs) is None
    assert await network.get_introduction(conn, alice, silent) is None
    assert await network.get_introduction(conn, 999_999, bobs) is None


async def test_introductions__merged_contact_resolves_to_the_survivor(
    team: World, conn: Conn
) -> None:
    w, alice = team, team.users["alice@acme.com"]
    victor = await w.contact(alice, "victor@client.com")
    vic = await w.contact(alice, "vic@home.net")
    await w.message(alice, "alice@acme.com", ["victor@client.com"], at=day(10))
    first = await w.message(
        alice, "zoe@partner.com", ["alice@acme.com", "vic@home.net"], at=day(90)
    )
    assert await network.record_introductions(conn, alice, [victor, vic]) == 2
    await conn.execute("UPDATE crm.contacts SET merged_into_id = %s WHERE id = %s", (victor, vic))
    await conn.execute(
        "UPDATE crm.contact_addresses SET contact_id = %s WHERE contact_id = %s", (victor, vic)
    )
    await conn.execute(  # as recompute_counts does after a merge
        "UPDATE crm.contacts SET first_interaction_on = %s WHERE id = %s", (day(90), victor)
    )

    assert await network.record_introductions(conn, alice, [vic]) == 2  # one moved, one dropped

    got = await network.get_introduction(conn, alice, vic)  # read through the merge
    assert got is not None and got.contact_id == victor and got.message_id == first
    assert got.introducer == "zoe@partner.com" and got.introducer_contact_id is None
    count = await w.one("SELECT count(*) FROM crm.introductions WHERE user_id = %s", alice)
    assert count == 1


# -- best paths in --------------------------------------------------------------------------


@pytest.fixture
async def target_co(team: World) -> dict[str, int]:
    """target.com known by all three users; alice and bob know Tom under different addresses."""
    w = team
    alice, bob, carol = (w.users[e] for e in ("alice@acme.com", "bob@acme.com", "carol@side.io"))
    ids: dict[str, int] = {}
    for uid, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        ids[f"{name}_co"] = await w.company(uid, "target.com")
    ids["alice_tom"] = await w.contact(
        alice,
        "tom@target.com",
        "thomas@target.com",
        company=ids["alice_co"],
        score=20,
        last_at=day(40),
    )
    ids["bob_tom"] = await w.contact(bob, "thomas@target.com", company=ids["bob_co"], score=70)
    ids["bob_uma"] = await w.contact(bob, "uma@target.com", company=ids["bob_co"], score=45)
    ids["carol_tom"] = await w.contact(
        carol, "tom@target.com", "thomas@target.com", company=ids["carol_co"], score=90
    )
    ids["carol_val"] = await w.contact(carol, "val@target.com", company=ids["carol_co"], score=95)
    return ids


async def test_best_paths_in__contact_matched_by_any_address_within_workspaces(
    team: World, conn: Conn, target_co: dict[str, int]
) -> None:
    alice, bob = team.users["alice@acme.com"], team.users["bob@acme.com"]

    paths = await network.best_paths_in(conn, alice, contact_id=target_co["alice_tom"])

    assert [(p.holder.email, p.score) for p in paths] == [
        ("bob@acme.com", 70),
        ("alice@acme.com", 20),
    ]
    assert paths[0].holder.contact_id == target_co["bob_tom"] and not paths[0].holder.is_self
    assert paths[0].contact_address == "thomas@target.com"
    assert paths[0].holder.level is Level.STRONG and paths[0].holder.evidence == (
        "score 70 evidence",
    )
    assert paths[1].holder.is_self
    # bob is in both workspaces, so carol is his teammate
    bobs = await network.best_paths_in(conn, bob, contact_id=target_co["bob_tom"])
    assert [p.holder.email for p in bobs] == ["carol@side.io", "bob@acme.com", "alice@acme.com"]


async def test_best_paths_in__company_by_domain_one_path_per_member(
    team: World, conn: Conn, target_co: dict[str, int]
) -> None:
    alice = team.users["alice@acme.com"]

    paths = await network.best_paths_in(conn, alice, company_id=target_co["alice_co"])

    assert [(p.holder.email, p.contact_address, p.score) for p in paths] == [
        ("bob@acme.com", "thomas@target.com", 70),
        ("alice@acme.com", "tom@target.com", 20),
    ]


async def test_best_paths_in__unknown_and_foreign_ids_are_empty(
    team: World, conn: Conn, target_co: dict[str, int]
) -> None:
    alice = team.users["alice@acme.com"]
    assert await network.best_paths_in(conn, alice, contact_id=999_999) == []
    assert await network.best_paths_in(conn, alice, contact_id=target_co["carol_tom"]) == []
    assert await network.best_paths_in(conn, alice, company_id=target_co["bob_co"]) == []
    assert await network.best_paths_in(conn, 999_999, company_id=target_co["alice_co"]) == []
    with pytest.raises(network.NetworkInputError):
        await network.best_paths_in(conn, alice)
    with pytest.raises(network.NetworkInputError):
        await network.best_paths_in(conn, alice, contact_id=1, company_id=1)


# -- company rollups ------------------------------------------------------------------------


async def test_company_rollup__strongest_people_and_who_holds_them(
    team: World, conn: Conn, target_co: dict[str, int]
) -> None:
    alice = team.users["alice@acme.com"]

    rollup = await network.company_rollup(conn, alice, target_co["alice_co"])

    assert rollup is not None and rollup.domain == "target.com" and rollup.name == "Target"
    assert rollup.people == 2 and rollup.team_members == 2  # tom (one person), uma; no carol
    assert rollup.strongest_score == 70 and rollup.strongest_level is Level.STRONG
    tom, uma = rollup.relationships
    assert tom.address == "tom@target.com" and tom.contact_id == target_co["alice_tom"]
    assert [(h.email, h.score) for h in tom.holders] == [
        ("bob@acme.com", 70),
        ("alice@acme.com", 20),
    ]
    assert tom.best.email == "bob@acme.com"
    assert uma.address == "uma@target.com" and uma.contact_id is None
    assert [h.email for h in uma.holders] == ["bob@acme.com"]
    top_one = await network.company_rollup(conn, alice, target_co["alice_co"], limit=1)
    assert top_one is not None and [p.address for p in top_one.relationships] == ["tom@target.com"]
    assert top_one.people == 2


async def test_company_rollup__unknown_or_foreign_company_is_none(
    team: World, conn: Conn, target_co: dict[str, int]
) -> None:
    alice = team.users["alice@acme.com"]
    assert await network.company_rollup(conn, alice, 999_999) is None
    assert await network.company_rollup(conn, alice, target_co["carol_co"]) is None
    lonely = await team.company(alice, "nobody.org")
    rollup = await network.company_rollup(conn, alice, lonely)
    assert rollup is not None and rollup.people == 0 and rollup.relationships == ()
    assert rollup.strongest_level is Level.NO_CONNECTION and rollup.last_interaction is None
    with pytest.raises(network.NetworkInputError):
        await network.company_rollup(conn, alice, lonely, limit=0)


# -- warm intros ----------------------------------------------------------------------------


@pytest.fixture
async def nina(team: World) -> World:
    """Nina (nina@far.com) is known to bob (80) and carol (95); alice has mail with her only
    through oscar (3 recent direct threads) and pete (5 direct threads, but alice barely
    knows pete). Dave knows Nina well but only bob knows Dave: three hops from alice."""
    w = team
    alice, bob, carol = (w.users[e] for e in ("alice@acme.com", "bob@acme.com", "carol@side.io"))
    await w.contact(bob, "nina@far.com", score=80)
    await w.contact(carol, "nina@far.com", score=95)
    await w.contact(alice, "bob@acme.com", internal=True, score=30)
    await w.contact(alice, "oscar@partner.com", score=90)
    await w.contact(alice, "pete@partner.com", score=10)
    await w.contact(alice, "nina@far.com")  # counted, never a relationship (cc only)
    await w.contact(bob, "dave@else.org", score=90)
    for n in range(3):
        at = day(n)
        await w.message(
            alice, "oscar@partner.com", ["nina@far.com"], ["alice@acme.com"], at=at, thread=f"o{n}"
        )
    # bob is also alice's contact in mail with nina: one path through him, the stronger one
    await w.message(
        alice, "nina@far.com", ["bob@acme.com", "alice@acme.com"], at=day(1), thread="b"
    )
    for n in range(5):
        at = day(n)
        await w.message(
            alice, "nina@far.com", ["pete@partner.com"], ["alice@acme.com"], at=at, thread=f"p{n}"
        )
    return w


async def test_warm_intro__two_hops_ranked_by_weaker_link(nina: World, conn: Conn) -> None:
    alice = nina.users["alice@acme.com"]

    paths = await network.warm_intro_paths(conn, alice, " Nina@Far.com ", now=NOW)

    assert [(p.connector_address, p.connector_kind) for p in paths] == [
        ("oscar@partner.com", network.ConnectorKind.CONTACT),
        ("bob@acme.com", network.ConnectorKind.TEAMMATE),
        ("pete@partner.com", network.ConnectorKind.CONTACT),
    ]
    oscar, bob, pete = paths
    assert oscar.first.strength == 90
    assert oscar.second.strength == pytest.approx(
        network.cooccurrence_strength(3 * 0.5 ** (1 / 180)), abs=0.2
    )
    assert oscar.strength == oscar.second.strength and oscar.level is Level.STRONG
    assert oscar.second.evidence[0].text.startswith("3 shared threads (3 direct)")
    assert len(oscar.second.evidence[0].message_ids) == 3
    # teammate: the user's own mail with bob scores 30, a teammate link is at least 60
    assert bob.first.strength == network.TEAMMATE_STRENGTH and bob.second.strength == 80
    assert bob.strength == 60 and bob.connector_user_id == nina.users["bob@acme.com"]
    assert bob.first.evidence[0].text == "Teammate in acme"
    assert all(e.message_ids == () for e in bob.second.evidence)  # bob's mailbox stays his
    assert pete.second.strength > 80 and pete.strength == 10
    limited = await network.warm_intro_paths(conn, alice, "nina@far.com", limit=2, now=NOW)
    assert [p.connector_address for p in limited] == ["oscar@partner.com", "bob@acme.com"]


async def test_warm_intro__recency_and_no_leakage(nina: World, conn: Conn) -> None:
    alice, carol = nina.users["alice@acme.com"], nina.users["carol@side.io"]
    later = await network.warm_intro_paths(
        conn, alice, "nina@far.com", now=NOW + timedelta(days=720)
    )
    oscar = next(p for p in later if p.connector_address == "oscar@partner.com")
    assert oscar.second.strength < 10  # four half-lives later
    # carol shares no workspace with alice: only bob (their common teammate) is her connector
    carols = await network.warm_intro_paths(conn, carol, "nina@far.com", now=NOW)
    assert [(p.connector_address, p.strength) for p in carols] == [("bob@acme.com", 60)]
    assert carols[0].first.evidence[0].text == "Teammate in side"


async def test_warm_intro__unknown_and_bad_input(nina: World, conn: Conn) -> None:
    alice = nina.users["alice@acme.com"]
    assert await network.warm_intro_paths(conn, alice, "nobody@nowhere.com") == []
    assert await network.warm_intro_paths(conn, 999_999, "nina@far.com") == []
    for bad in ("", "nina", "nina @far.com", "a@b@c"):
        with pytest.raises(network.NetworkInputError):
            await network.warm_intro_paths(conn, alice, bad)
    with pytest.raises(network.NetworkInputError):
        await network.warm_intro_paths(conn, alice, "nina@far.com", limit=0)


async def test_warm_intro__busy_target_found_by_date_gives_the_same_paths(
    nina: World, conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = nina.users["alice@acme.com"]
    by_links = await network.warm_intro_paths(conn, alice, "nina@far.com", now=NOW)
    await conn.execute(
        "UPDATE crm.contacts SET cc_count = 50 WHERE user_id = %s AND primary_address = %s",
        (alice, "nina@far.com"),
    )
    monkeypatch.setattr(network, "SCAN_LINKS", 10)  # nina now counts as a busy target

    by_date = await network.warm_intro_paths(conn, alice, "nina@far.com", now=NOW)

    assert by_date == by_links
    monkeypatch.setattr(network, "MAX_TARGET_MESSAGES", 3)  # only the 3 latest messages
    latest = await network.warm_intro_paths(conn, alice, "nina@far.com", now=NOW)
    pete = next(p for p in latest if p.connector_address == "pete@partner.com")
    pete_all = next(p for p in by_links if p.connector_address == "pete@partner.com")
    assert pete.second.strength < pete_all.second.strength  # at most 2 of his 5 threads
