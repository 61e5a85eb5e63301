-- The newest entries about one contact, company or list, with who made them: in one workspace
-- (a list's), or in any (NULL: a contact's or company's, which only its user changes, in
-- whichever workspace they were in).
SELECT a.id, a.action, a.detail, a.at, a.actor_id,
       coalesce(nullif(u.name, ''), u.email, 'someone') AS actor
FROM crm.activity a
LEFT JOIN crm.users u ON u.id = a.actor_id
WHERE (%(workspace_id)s::bigint IS NULL OR a.workspace_id = %(workspace_id)s)
  AND a.subject_kind = %(subject_kind)s
  AND a.subject_id = %(subject_id)s
ORDER BY a.at DESC, a.id DESC
LIMIT %(limit)s
