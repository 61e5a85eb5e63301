-- One list the user may see: their own, or one shared with a workspace they belong to, with
-- how many of the caller's contacts its page lists, counted as list_all.sql counts them
-- (visible people: a hidden, merged or held-back member, or a group, is on the list but not
-- shown, so not counted).
SELECT l.id, l.workspace_id, l.owner_id, l.name, l.kind, l.filter, l.sort, l.columns, l.shared,
       l.created_on, l.updated_on, coalesce(nullif(u.name, ''), u.email) AS owner,
       (SELECT count(*) FROM crm.contact_list_members m
        JOIN crm.contacts c ON c.id = m.contact_id
        WHERE m.list_id = l.id AND c.user_id = %(user_id)s AND c.created
          AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
          AND c.kind = 'person') AS members  -- what its page shows the caller
FROM crm.contact_lists l
JOIN crm.users u ON u.id = l.owner_id
WHERE l.id = %(id)s
  AND (l.owner_id = %(user_id)s OR (l.shared AND l.workspace_id IN (
       SELECT w.workspace_id FROM crm.workspace_members w WHERE w.user_id = %(user_id)s)))
