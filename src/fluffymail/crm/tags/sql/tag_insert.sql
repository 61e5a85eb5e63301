-- A new tag; no row when the workspace already has one by that name (ignoring case).
INSERT INTO crm.tags (workspace_id, name, colour, created_by)
VALUES (%(workspace_id)s, %(name)s, %(colour)s, %(user_id)s)
ON CONFLICT (workspace_id, lower(name)) DO NOTHING
RETURNING id, name, colour, 0::bigint AS contacts
