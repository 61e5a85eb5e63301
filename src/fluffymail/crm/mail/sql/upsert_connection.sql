-- The connection of this user, kind and source: created once, then found again (idempotent).
WITH inserted AS (
    INSERT INTO crm.connections (user_id, kind, source, display_name, credentials)
    VALUES (%(user_id)s, %(kind)s, %(source)s, %(display_name)s, %(credentials)s)
    ON CONFLICT (user_id, kind, source) DO NOTHING
    RETURNING *
)
SELECT *, true AS created FROM inserted
UNION ALL
SELECT *, false AS created FROM crm.connections
WHERE user_id = %(user_id)s AND kind = %(kind)s AND source = %(source)s
  AND NOT EXISTS (SELECT 1 FROM inserted)
