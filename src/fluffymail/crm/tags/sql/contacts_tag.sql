-- Put a tag on those of the contacts that are the user's and not merged away; the contacts
-- newly tagged come back (those already tagged are left as they were).
INSERT INTO crm.contact_tags (contact_id, tag_id, tagged_by)
SELECT c.id, %(tag_id)s, %(user_id)s
FROM crm.contacts c
WHERE c.id = ANY(%(contact_ids)s::bigint[]) AND c.user_id = %(user_id)s
  AND c.merged_into_id IS NULL
ORDER BY c.id
ON CONFLICT DO NOTHING
RETURNING contact_id
