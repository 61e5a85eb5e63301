"""A user's identity in known states for the "You" page tests: the account address, a rule-made
alias with its evidence and a delegate with a contact."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from tests.integration.web.conftest import User

ALIAS = "alice.home@example.net"
AIDE = "ina.aide@example.com"


async def seed_identity(pool: AsyncConnectionPool, user: User) -> None:
    """An account with a rule-made alias, a delegate and a contact for the delegate."""
    async with pool.connection() as conn:
        user_id, email = user.account.id, user.account.email
        await conn.execute(
            "INSERT INTO crm.user_aliases (user_id, address, source) VALUES"
            " (%(u)s, %(e)s, 'owner'), (%(u)s, %(a)s, 'sent_folder')",
            {"u": user_id, "e": email, "a": ALIAS},
        )
        await conn.execute(
            "INSERT INTO crm.mailbox_senders (user_id, address, display_name, sent_messages,"
            " sent_total, kind, decided_by, reason) VALUES"
            " (%(u)s, %(a)s, 'Alice Example', 40, 120, 'alias', 'rule',"
            "  'the owner''s name on 40 of 120 sent messages'),"
            " (%(u)s, %(d)s, 'Ina Aide', 30, 120, 'delegate', 'rule', 'a different person''s name')",
            {"u": user_id, "a": ALIAS, "d": AIDE},
        )
        await conn.execute(
            "WITH c AS (INSERT INTO crm.contacts (user_id, primary_address, name)"
            " VALUES (%(u)s, %(d)s, 'Ina Aide') RETURNING id)"
            " INSERT INTO crm.contact_addresses (user_id, address, contact_id)"
            " SELECT %(u)s, %(d)s, id FROM c",
            {"u": user_id, "d": AIDE},
        )
