-- A workspace's name and the caller's role in it (no row: the caller is no member).
SELECT w.id, w.name, m.role
FROM crm.workspaces w
JOIN crm.workspace_members m ON m.workspace_id = w.id AND m.user_id = %(user_id)s
WHERE w.id = %(workspace_id)s
