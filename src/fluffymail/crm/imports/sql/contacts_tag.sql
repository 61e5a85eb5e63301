-- The rows' tags on their contacts (a tag already on a contact stays as it was; none is
-- taken off).
INSERT INTO crm.contact_tags (contact_id, tag_id, tagged_by, tagged_on)
SELECT DISTINCT r.contact_id, t.id, %(user_id)s::bigint, %(now)s::timestamptz
FROM crm.import_rows r, unnest(r.tags) AS n(name)
JOIN crm.tags t ON t.workspace_id = %(workspace_id)s AND lower(t.name) = lower(n.name)
WHERE r.run_id = %(run_id)s AND r.contact_id IS NOT NULL
ON CONFLICT DO NOTHING
