-- A workspace's invites not yet used, newest first (expired ones too, marked by `expires_on`).
SELECT i.id, i.workspace_id, i.role, i.note, i.created_on, i.expires_on, i.used_on,
       c.email AS created_by_email, NULL::text AS used_by_email
FROM crm.workspace_invites i
LEFT JOIN crm.users c ON c.id = i.created_by
WHERE i.workspace_id = %(workspace_id)s AND i.used_on IS NULL
ORDER BY i.created_on DESC, i.id DESC
LIMIT 200
