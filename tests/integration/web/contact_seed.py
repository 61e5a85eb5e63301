"""A small CRM for one user, inserted straight into the tables: companies, contacts (visible,
hidden, suppressed, a colleague), messages linked to them, relationships with evidence and
stats, summaries (extractive and AI), an enriched fact and an introduction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Seeded:
    user_id: int
    companies: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)


async def _one(conn: Any, query: str, params: tuple[Any, ...]) -> int:
    row = await (await conn.execute(query, params)).fetchone()
    return int(row[0])


async def _company(conn: Any, user_id: int, domain: str, name: str) -> int:
    return await _one(
        conn,
        "INSERT INTO crm.companies (user_id, domain, name) VALUES (%s, %s, %s) RETURNING id",
        (user_id, domain, name),
    )


async def _contact(
    conn: Any,
    user_id: int,
    address: str,
    name: str,
    company_id: int | None,
    *,
    created: bool = True,
    internal: bool = False,
    suppressed: str | None = None,
    sent: int = 0,
    received: int = 0,
    last: datetime | None = None,
) -> int:
    contact_id = await _one(
        conn,
        "INSERT INTO crm.contacts (user_id, primary_address, name, company_id, created, is_internal,"
        " suppressed_reason, sent_to_count, received_from_count, first_interaction_on,"
        " last_interaction_on) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            user_id,
            address,
            name,
            company_id,
            created,
            internal,
            suppressed,
            sent,
            received,
            NOW - timedelta(days=400) if last else None,
            last,
        ),
    )
    await conn.execute(
        "INSERT INTO crm.contact_addresses (user_id, address, contact_id) VALUES (%s, %s, %s)",
        (user_id, address, contact_id),
    )
    if name:  # what extraction would have counted: merges re-choose names from these votes
        await conn.execute(
            "INSERT INTO crm.contact_name_votes (user_id, address, display_name, votes)"
            " VALUES (%s, %s, %s, 3)",
            (user_id, address, name),
        )
    return contact_id


async def _message(
    conn: Any,
    user_id: int,
    key: str,
    subject: str,
    sender: tuple[str, str],
    to: tuple[str, str],
    date: datetime,
    body: str,
) -> int:
    message_id = await _one(
        conn,
        "INSERT INTO crm.messages (user_id, dedup_key, subject, snippet, body_text, from_address,"
        " from_name, date, message_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            user_id,
            f"fp:{user_id}:{key}",
            subject,
            body[:80],
            body,
            sender[0],
            sender[1],
            date,
            f"<{key}@example.test>",
        ),
    )
    for role, (address, name) in (("from", sender), ("to", to)):
        await conn.execute(
            "INSERT INTO crm.message_participants (message_id, role, position, address,"
            " display_name) VALUES (%s, %s, 0, %s, %s)",
            (message_id, role, address, name),
        )
    return message_id


async def _link(
    conn: Any, user_id: int, message_id: int, address: str, role: str, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO crm.contact_links (message_id, address, role, user_id, occurred_on,"
        " visible) VALUES (%s, %s, %s, %s, %s, true)",
        (message_id, address, role, user_id, at),
    )


async def _relationship(
    conn: Any,
    user_id: int,
    contact_id: int,
    score: float,
    level: str,
    trend: str,
    *,
    going_cold: bool = False,
    evidence: list[dict[str, Any]] | None = None,
    sent: int = 0,
    received: int = 0,
) -> None:
    stats = {
        "direct": sent + received,
        "cc": 0,
        "median_reply_sent": 5400,
        "median_reply_received": 7200,
        "monthly": [
            {"month": "2025-11", "sent": 2, "received": 1},
            {"month": "2026-01", "sent": 1, "received": 3},
            {"month": "2026-02", "sent": 4, "received": 2},
        ],
    }
    await conn.execute(
        "INSERT INTO crm.relationships (user_id, contact_id, score, level, trend, going_cold, sent,"
        " received, two_way_threads, first_at, last_at, evidence, stats, computed_on)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 2, %s, %s, %s, %s, %s)",
        (
            user_id,
            contact_id,
            score,
            level,
            trend,
            going_cold,
            sent,
            received,
            NOW - timedelta(days=120),
            NOW - timedelta(days=2),
            json.dumps(evidence or []),
            json.dumps(stats),
            NOW,
        ),
    )


async def mark_analysed(conn: Any, user_id: int) -> None:
    """Record the seeded relationships as the analysis's own: the run cursor past every message
    and each contact's folded links as they are (what `analyze_user` leaves), so their
    figures are current (crm.contact_figures), not "updating"."""
    await conn.execute(
        "INSERT INTO crm.relationship_runs (user_id, last_message_id)"
        " SELECT %s, coalesce(max(id), 0) FROM crm.messages WHERE user_id = %s"
        " ON CONFLICT (user_id) DO UPDATE SET last_message_id = excluded.last_message_id",
        (user_id, user_id),
    )
    await conn.execute(
        "INSERT INTO crm.relationship_folds (user_id, contact_id, links)"
        " SELECT %s, coalesce(c.merged_into_id, c.id), count(*)"
        " FROM crm.contact_links l"
        " JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address"
        " JOIN crm.contacts c ON c.id = a.contact_id"
        " WHERE l.user_id = %s GROUP BY 2"
        " ON CONFLICT (user_id, contact_id) DO UPDATE SET links = excluded.links",
        (user_id, user_id),
    )


async def seed_crm(pool: AsyncConnectionPool, user_id: int, domain: str = "acme.test") -> Seeded:
    """Ada (very strong, warming), Grace (strong, going cold), Linus (weak), a colleague with no
    score, plus a hidden and a suppressed contact that never show."""
    seeded = Seeded(user_id=user_id)
    async with pool.connection() as conn, conn.transaction():
        acme = await _company(conn, user_id, domain, "Acme Corp")
        globex = await _company(conn, user_id, "globex.example", "Globex")
        seeded.companies |= {"acme": acme, "globex": globex}
        me = ("me@mine.test", "Me")
        people = {
            "ada": await _contact(
                conn,
                user_id,
                f"ada@{domain}",
                "Ada Lovelace",
                acme,
                sent=6,
                received=5,
                last=NOW - timedelta(days=2),
            ),
            "grace": await _contact(
                conn,
                user_id,
                "grace@globex.example",
                "Grace Hopper",
                globex,
                sent=3,
                received=4,
                last=NOW - timedelta(days=60),
            ),
            "linus": await _contact(
                conn,
                user_id,
                f"linus@{domain}",
                "Linus Torvalds",
                acme,
                sent=1,
                received=1,
                last=NOW - timedelta(days=30),
            ),
            "colleague": await _contact(
                conn,
                user_id,
                "pat@mine.test",
                "Pat Colleague",
                None,
                internal=True,
                sent=1,
                last=NOW - timedelta(days=10),
            ),
            "hidden": await _contact(
                conn, user_id, f"hidden@{domain}", "Hidden Person", acme, created=False
            ),
            "robot": await _contact(
                conn, user_id, f"noreply@{domain}", "", acme, suppressed="role"
            ),
        }
        seeded.contacts |= people
        ada = (f"ada@{domain}", "Ada Lovelace")
        msgs = {
            "plan": await _message(
                conn,
                user_id,
                "plan",
                "Analytical engine plan",
                ada,
                me,
                NOW - timedelta(days=20),
                "Here is the <b>plan</b> for the engine.\nBest, Ada\nChief Engineer",
            ),
            "reply": await _message(
                conn,
                user_id,
                "reply",
                "Re: Analytical engine plan",
                me,
                ada,
                NOW - timedelta(days=19),
                "Thanks Ada, looks great.",
            ),
            "notes": await _message(
                conn,
                user_id,
                "notes",
                "Notes on Bernoulli numbers",
                ada,
                me,
                NOW - timedelta(days=2),
                "Attached are my notes.",
            ),
            "linus": await _message(
                conn,
                user_id,
                "linus",
                "Kernel patch",
                (f"linus@{domain}", "Linus Torvalds"),
                me,
                NOW - timedelta(days=30),
                "Please review.",
            ),
            "grace": await _message(
                conn,
                user_id,
                "grace",
                "Compiler demo",
                ("grace@globex.example", "Grace Hopper"),
                me,
                NOW - timedelta(days=60),
                "Can we demo the compiler?",
            ),
        }
        seeded.messages |= msgs
        await _link(conn, user_id, msgs["plan"], ada[0], "received_from", NOW - timedelta(days=20))
        await _link(conn, user_id, msgs["reply"], ada[0], "sent_to", NOW - timedelta(days=19))
        await _link(conn, user_id, msgs["notes"], ada[0], "received_from", NOW - timedelta(days=2))
        await _link(
            conn,
            user_id,
            msgs["linus"],
            f"linus@{domain}",
            "received_from",
            NOW - timedelta(days=30),
        )
        await _link(
            conn,
            user_id,
            msgs["grace"],
            "grace@globex.example",
            "received_from",
            NOW - timedelta(days=60),
        )
        await _relationship(
            conn,
            user_id,
            people["ada"],
            85.4,
            "very strong",
            "warming",
            sent=6,
            received=5,
            evidence=[
                {
                    "text": "2 two-way threads, last reply 2 days ago; you sent 6, they sent 5",
                    "message_ids": [str(msgs["reply"]), str(msgs["notes"])],
                },
                {
                    "text": "Last message 2 days ago",
                    "message_ids": [str(msgs["notes"]), "999999999"],
                },
            ],
        )
        await _relationship(
            conn,
            user_id,
            people["grace"],
            62.0,
            "strong",
            "cooling",
            going_cold=True,
            sent=3,
            received=4,
            evidence=[
                {
                    "text": "Silent for 60 days; usually every 7 days",
                    "message_ids": [str(msgs["grace"])],
                }
            ],
        )
        await _relationship(
            conn, user_id, people["linus"], 30.0, "weak", "steady", sent=1, received=1
        )
        await conn.execute(
            "INSERT INTO crm.relationship_summaries (user_id, contact_id, status, generated_by,"
            " prompt_version, summary, last_message_at)"
            " VALUES (%s, %s, 'ok', 'extractive (not AI)', 'v1', %s, now()),"
            " (%s, %s, 'ok', 'gpt-test', 'v1', %s, now())",
            (
                user_id,
                people["ada"],
                json.dumps(
                    {
                        "who": "Engineer at Acme",
                        "discussed": "The engine plan.",
                        "open_loops": ["Send the Bernoulli notes back"],
                        "next_step": "Reply to the notes",
                        "citations": [str(msgs["plan"]), str(msgs["notes"])],
                    }
                ),
                user_id,
                people["grace"],
                json.dumps(
                    {
                        "who": "Compiler pioneer",
                        "discussed": "A demo",
                        "open_loops": [],
                        "next_step": "",
                        "citations": [str(msgs["grace"])],
                    }
                ),
            ),
        )
        await conn.execute(
            "INSERT INTO crm.contact_facts (contact_id, field, value, source, source_message_id,"
            " confidence, observed_on) VALUES (%s, 'title', 'Chief Engineer', 'signature', %s, 0.9, %s)",
            (people["ada"], msgs["plan"], NOW - timedelta(days=20)),
        )
        await conn.execute(
            "INSERT INTO crm.introductions (user_id, contact_id, introducer, introducer_contact_id,"
            " message_id, introduced_on) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                user_id,
                people["grace"],
                ada[0],
                people["ada"],
                msgs["grace"],
                NOW - timedelta(days=60),
            ),
        )
        await mark_analysed(conn, user_id)
    return seeded
