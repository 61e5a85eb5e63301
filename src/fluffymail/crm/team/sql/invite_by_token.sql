-- The invite a link's token names, with its workspace and who sent it, locked to be spent.
SELECT i.id, i.workspace_id, w.name AS workspace_name, i.role, i.note, i.created_on,
       i.expires_on, i.used_on, c.email AS created_by_email, c.name AS created_by_name
FROM crm.workspace_invites i
JOIN crm.workspaces w ON w.id = i.workspace_id
LEFT JOIN crm.users c ON c.id = i.created_by
WHERE i.token_hash = %(token_hash)s
FOR UPDATE OF i
