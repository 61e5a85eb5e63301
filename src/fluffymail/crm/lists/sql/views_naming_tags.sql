-- The saved views of a workspace whose filter has a `tag:` term (every member's, shared or
-- not: each finds its tag among the workspace's), locked until the caller's transaction ends.
SELECT l.id, l.filter
FROM crm.contact_lists l
WHERE l.workspace_id = %(workspace_id)s AND l.kind = 'view'
  AND strpos(lower(l.filter), 'tag:') > 0
ORDER BY l.id
FOR UPDATE
