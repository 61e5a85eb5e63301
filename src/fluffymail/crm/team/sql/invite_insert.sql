-- A new invite into a workspace; the caller keeps the token, the table only its hash.
WITH made AS (
    INSERT INTO crm.workspace_invites (workspace_id, token_hash, role, note, created_by,
                                       created_on, expires_on)
    VALUES (%(workspace_id)s, %(token_hash)s, %(role)s, %(note)s, %(user_id)s, %(now)s,
            %(now)s + %(ttl)s)
    RETURNING id, workspace_id, role, note, created_by, created_on, expires_on, used_on
)
SELECT m.id, m.workspace_id, m.role, m.note, m.created_on, m.expires_on, m.used_on,
       u.email AS created_by_email, NULL::text AS used_by_email
FROM made m LEFT JOIN crm.users u ON u.id = m.created_by
