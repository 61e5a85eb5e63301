"""The contact figures view with and without meetings (migration 0029 against 0019), A/B in one
database: a page of 50 contacts' figures read from each view in turn, so both see the same load.

Run it on the database `contacts_list_bench.py --keep` leaves (10,000 contacts, 1M messages):

    .venv/bin/python bench/figures_meetings_bench.py --db NAME [--meetings 5000] [--rounds 200]

It adds `--meetings` meetings of 3 attendees each among the user's contacts (a busy calendar's
two years), creates the 0019 view beside the current one, times both, and prints JSON medians.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from importlib import resources

import psycopg

PAGE = """SELECT f.contact_id, to_jsonb(f) AS figures FROM {view} f
WHERE f.user_id = %(user_id)s AND f.contact_id = ANY(%(ids)s::bigint[])"""


def old_view() -> str:
    text = resources.files("fluffymail.db.migrations").joinpath("0019_contact_figures.sql")
    sql = text.read_text("utf-8")
    body = sql[sql.index("CREATE VIEW crm.contact_figures AS") :]
    return re.sub(
        r"^CREATE VIEW crm\.contact_figures", "CREATE OR REPLACE VIEW public.figures_0019", body
    )


def seed_meetings(conn: psycopg.Connection, user_id: int, count: int) -> None:
    conn.execute("DELETE FROM crm.meetings WHERE user_id = %s", (user_id,))
    conn.execute(
        """INSERT INTO crm.meetings (user_id, calendar, event_id, title, starts_on, ends_on,
               attendees)
           SELECT %(u)s, 'ics', 'bench-' || g, 'Meeting ' || g,
                  now() - g * interval '3 hours', now() - g * interval '3 hours' + interval '1 hour', 3
           FROM generate_series(1, %(n)s) g""",
        {"u": user_id, "n": count},
    )
    conn.execute(
        """INSERT INTO crm.meeting_attendees (meeting_id, user_id, address, response)
           SELECT m.id, %(u)s, a.address, 'accepted'
           FROM crm.meetings m
           CROSS JOIN LATERAL (
               SELECT address FROM crm.contact_addresses
               WHERE user_id = %(u)s ORDER BY (hashtext(address || m.id)) LIMIT 3) a
           WHERE m.user_id = %(u)s
           ON CONFLICT DO NOTHING""",
        {"u": user_id},
    )
    conn.execute("ANALYZE crm.meetings; ANALYZE crm.meeting_attendees")


def timed(conn: psycopg.Connection, query: str, params: dict[str, object]) -> float:
    started = time.perf_counter()
    conn.execute(query, params).fetchall()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--db", required=True)
    parser.add_argument("--meetings", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    url = psycopg.conninfo.make_conninfo(args.dsn, dbname=args.db)
    with psycopg.connect(url, autocommit=True) as conn:
        user_id = conn.execute("SELECT id FROM crm.users ORDER BY id LIMIT 1").fetchone()[0]
        seed_meetings(conn, user_id, args.meetings)
        conn.execute(old_view())
        ids = [r[0] for r in conn.execute(
            "SELECT contact_id FROM crm.relationships WHERE user_id = %s"
            " ORDER BY score DESC LIMIT 50", (user_id,)).fetchall()]  # fmt: skip
        params = {"user_id": user_id, "ids": ids}
        queries = {
            "0019 (no meetings)": PAGE.format(view="public.figures_0019"),
            "0029 (with meetings)": PAGE.format(view="crm.contact_figures"),
        }
        times: dict[str, list[float]] = {name: [] for name in queries}
        for _ in range(args.rounds):
            for name, query in queries.items():
                times[name].append(timed(conn, query, params))
        met = conn.execute(
            "SELECT count(*) FROM crm.contact_figures WHERE user_id = %s"
            " AND contact_id = ANY(%s) AND meetings > 0", (user_id, ids)).fetchone()[0]  # fmt: skip
        conn.execute("DROP VIEW public.figures_0019")
    print(json.dumps({
        "meetings": args.meetings, "page": len(ids), "page_contacts_with_meetings": met,
        "rounds": args.rounds,
        "median_ms": {k: round(statistics.median(v), 2) for k, v in times.items()},
        "p95_ms": {k: round(sorted(v)[int(0.95 * len(v)) - 1], 2) for k, v in times.items()},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
