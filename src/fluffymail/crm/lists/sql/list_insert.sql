-- A new list of the owner's, in their workspace.
INSERT INTO crm.contact_lists (workspace_id, owner_id, name, kind, filter, sort, columns, shared)
VALUES (%(workspace_id)s, %(owner_id)s, %(name)s, %(kind)s, %(filter)s, %(sort)s, %(columns)s,
        %(shared)s)
RETURNING id
