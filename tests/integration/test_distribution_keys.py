"""The distribution-key rule for sharding the CRM by user (Citus, see SCALING.md): every crm table
carries user_id or workspace_id and each of its unique keys leads with it, except the documented
global tables and the keys listed below with the reason each does not comply yet.

The exceptions are a ratchet: a new table or key that breaks the rule fails, and so does one
that has been fixed and is still listed (remove it from the list)."""

from __future__ import annotations

import psycopg

DISTRIBUTION_COLUMNS = ("user_id", "workspace_id")

# Global tables: read before anyone is known (sign-in) or tiny and shared; with Citus they
# stay reference tables (copied to every node) rather than being sharded.
GLOBAL = {
    "users": "the accounts themselves: looked up by email at sign-in",
    "workspaces": "a handful of rows per team; reference table",
    "login_throttle": "keyed by address or email before anyone is signed in",
}

CHILD = "a child row reached through its parent's id: needs user_id copied in (and backfilled)"
SERIAL = (
    "a serial id primary key that other tables reference: (user_id, id) as the key means every "
    "referencing foreign key becomes (user_id, x_id) too"
)
TOKEN = "looked up by a secret's hash before the user is known: stays on the coordinator"
NATURAL = "unique within a parent that carries the user: leading with user_id keeps it unique"

# (table, key) -> reason; key "-" means the table has no distribution column at all.
EXCEPTIONS = {
    ("activity", "activity_pkey"): SERIAL,
    ("api_tokens", "api_tokens_pkey"): SERIAL,
    ("api_tokens", "api_tokens_hash_key"): TOKEN,
    ("companies", "companies_pkey"): SERIAL,
    ("company_merges", "company_merges_pkey"): SERIAL,
    ("company_tags", "-"): CHILD,
    ("company_tags", "company_tags_pkey"): CHILD,
    ("connections", "connections_pkey"): SERIAL,
    ("contact_cadences", "contact_cadences_pkey"): NATURAL,
    ("contact_facts", "-"): CHILD,
    ("contact_facts", "contact_facts_pkey"): CHILD,
    ("contact_facts", "contact_facts_value_key"): CHILD,
    ("contact_links", "contact_links_pkey"): NATURAL,
    ("contact_list_members", "-"): CHILD,
    ("contact_list_members", "contact_list_members_pkey"): CHILD,
    ("contact_lists", "contact_lists_pkey"): SERIAL,
    ("contact_lists", "contact_lists_name_key"): "unique per owner (owner_id, not user_id)",
    ("contact_merges", "contact_merges_pkey"): SERIAL,
    ("contact_tags", "-"): CHILD,
    ("contact_tags", "contact_tags_pkey"): CHILD,
    ("contacts", "contacts_pkey"): SERIAL,
    ("folders", "-"): CHILD,
    ("folders", "folders_pkey"): CHILD,
    ("folders", "folders_name_key"): CHILD,
    ("followups", "followups_pkey"): SERIAL,
    ("followups", "followups_contact_id_key_key"): NATURAL,
    ("message_folders", "-"): CHILD,
    ("message_folders", "message_folders_pkey"): CHILD,
    ("message_participants", "-"): CHILD,
    ("message_participants", "message_participants_pkey"): CHILD,
    ("messages", "messages_pkey"): SERIAL,
    ("note_mentions", "-"): CHILD,
    ("note_mentions", "note_mentions_pkey"): CHILD,
    ("notes", "notes_pkey"): SERIAL,
    ("oauth_states", "oauth_states_pkey"): TOKEN,
    ("outgoing_events", "outgoing_events_pkey"): SERIAL,
    ("outgoing_events", "outgoing_events_kind_dedup_key_key"): (
        "deduplicated across users by (kind, dedup_key); the key would need user_id first"
    ),
    ("sessions", "sessions_pkey"): TOKEN,
    ("tags", "tags_pkey"): SERIAL,
    ("threads", "threads_pkey"): SERIAL,
    ("import_rows", "-"): CHILD,
    ("import_rows", "import_rows_pkey"): CHILD,
    ("import_runs", "import_runs_pkey"): SERIAL,
    ("meeting_attendees", "meeting_attendees_pkey"): CHILD,
    ("meetings", "meetings_pkey"): SERIAL,
    ("webhook_attempts", "-"): CHILD,
    ("webhook_attempts", "webhook_attempts_pkey"): CHILD,
    ("webhook_deliveries", "-"): CHILD,
    ("webhook_deliveries", "webhook_deliveries_pkey"): CHILD,
    ("webhooks", "webhooks_pkey"): SERIAL,
    ("workspace_invites", "workspace_invites_pkey"): SERIAL,
    ("workspace_invites", "workspace_invites_token_hash_key"): TOKEN,
}

TABLES = """
SELECT c.relname,
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND NOT a.attisdropped
                 AND a.attname = ANY(%(columns)s)) AS has_column
FROM pg_class c
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""

# Unique keys (primary keys, unique constraints and unique indexes) and their leading column
# (NULL when it is an expression).
UNIQUE_KEYS = """
SELECT t.relname, i.relname, a.attname
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
WHERE t.relnamespace = 'crm'::regnamespace AND x.indisunique AND NOT t.relispartition
"""


def violations(db_url: str) -> set[tuple[str, str]]:
    """(table, key) for every breach of the rule, key "-" for a table with no such column."""
    found: set[tuple[str, str]] = set()
    with psycopg.connect(db_url) as conn:
        params = {"columns": list(DISTRIBUTION_COLUMNS)}
        for table, has_column in conn.execute(TABLES, params).fetchall():
            if table not in GLOBAL and not has_column:
                found.add((table, "-"))
        for table, key, leading in conn.execute(UNIQUE_KEYS).fetchall():
            if table not in GLOBAL and leading not in DISTRIBUTION_COLUMNS:
                found.add((table, key))
    return found


def test_every_crm_key_leads_with_the_distribution_column_or_is_a_listed_exception(
    db_url: str,
) -> None:
    found = violations(db_url)
    new = sorted(found - EXCEPTIONS.keys())
    fixed = sorted(EXCEPTIONS.keys() - found)
    assert not new, f"keys that do not lead with user_id or workspace_id: {new} (SCALING.md)"
    assert not fixed, f"these now follow the rule: remove them from EXCEPTIONS: {fixed}"


def test_the_global_tables_exist(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(TABLES, {"columns": list(DISTRIBUTION_COLUMNS)}).fetchall()
    assert GLOBAL.keys() <= {table for table, _ in rows}, "a global table was renamed or dropped"
