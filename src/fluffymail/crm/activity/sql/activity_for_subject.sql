-- The newest entries about one contact or company in a workspace, with who made them.
SELECT a.id, a.action, a.detail, a.at, a.actor_id,
       coalesce(nullif(u.name, ''), u.email, 'someone') AS actor
FROM crm.activity a
LEFT JOIN crm.users u ON u.id = a.actor_id
WHERE a.workspace_id = %(workspace_id)s AND a.subject_kind = %(subject_kind)s
  AND a.subject_id = %(subject_id)s
ORDER BY a.at DESC, a.id DESC
LIMIT %(limit)s
