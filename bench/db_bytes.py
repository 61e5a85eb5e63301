"""Bytes per stored message (issue 19): every relation of a kept database (heap, TOAST, each
index) divided by the messages stored, largest first, and the whole database's size.

Usage: .venv/bin/python bench/db_bytes.py postgresql://postgres@127.0.0.1/fm_pipe_... [--top 25]
Prints JSON: `database_bytes_per_message` (pg_database_size), `relations_bytes_per_message`
(the sum over user relations), `messages_and_search` (crm.messages + crm.message_search with
their TOAST and indexes) and `relations`, one row per table with its parts.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import psycopg

PARTS = """
SELECT n.nspname || '.' || c.relname AS name,
       pg_relation_size(c.oid) AS heap,
       coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast,
       coalesce((SELECT json_object_agg(i.indexrelid::regclass::text,
                                        pg_relation_size(i.indexrelid))
                 FROM pg_index i WHERE i.indrelid = c.oid), '{}') AS indexes,
       pg_total_relation_size(c.oid) AS total
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%%'
ORDER BY total DESC
"""


def measure(url: str, top: int) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        messages = conn.execute("SELECT count(*) FROM crm.messages").fetchone()[0]  # type: ignore[index]
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
        rows = conn.execute(PARTS).fetchall()
    count = max(messages, 1)

    def per(value: int) -> float:
        return round(value / count, 1)

    relations = [
        {"name": name, "total": per(total), "heap": per(heap), "toast": per(toast),
         "indexes": {k: per(v) for k, v in sorted(indexes.items(), key=lambda kv: -kv[1])}}
        for name, heap, toast, indexes, total in rows
    ]  # fmt: skip
    pair = sum(total for name, _, _, _, total in rows
               if name in ("crm.messages", "crm.message_search"))  # fmt: skip
    return {
        "messages": messages,
        "database_bytes_per_message": per(database),
        "relations_bytes_per_message": per(sum(r[4] for r in rows)),
        "messages_and_search": per(pair),
        "relations": relations[:top],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(json.dumps(measure(args.url, args.top), indent=1))


if __name__ == "__main__":
    main()
