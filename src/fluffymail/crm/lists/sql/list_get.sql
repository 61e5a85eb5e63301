-- One list the user may see: their own, or one shared with a workspace they belong to.
SELECT l.id, l.workspace_id, l.owner_id, l.name, l.kind, l.filter, l.sort, l.columns, l.shared,
       l.created_on, l.updated_on, coalesce(nullif(u.name, ''), u.email) AS owner,
       (SELECT count(*) FROM crm.contact_list_members m WHERE m.list_id = l.id) AS members
FROM crm.contact_lists l
JOIN crm.users u ON u.id = l.owner_id
WHERE l.id = %(id)s
  AND (l.owner_id = %(user_id)s OR (l.shared AND l.workspace_id IN (
       SELECT w.workspace_id FROM crm.workspace_members w WHERE w.user_id = %(user_id)s)))
