-- The lists a user may see (their own and those shared with their workspaces), by name, each
-- with how many of the caller's contacts its page lists (visible people: contact_count.sql).
SELECT l.id, l.workspace_id, l.owner_id, l.name, l.kind, l.filter, l.sort, l.columns, l.shared,
       l.created_on, l.updated_on, coalesce(nullif(u.name, ''), u.email) AS owner,
       (SELECT count(*) FROM crm.contact_list_members m
        JOIN crm.contacts c ON c.id = m.contact_id
        WHERE m.list_id = l.id AND c.user_id = %(user_id)s AND c.created
          AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
          AND c.kind = 'person') AS members  -- what its page shows the caller
FROM crm.contact_lists l
JOIN crm.users u ON u.id = l.owner_id
WHERE l.owner_id = %(user_id)s OR (l.shared AND l.workspace_id IN (
       SELECT w.workspace_id FROM crm.workspace_members w WHERE w.user_id = %(user_id)s))
ORDER BY lower(l.name), l.id
