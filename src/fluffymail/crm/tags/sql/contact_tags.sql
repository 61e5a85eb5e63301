-- The tags on each of the user's contacts given, by name.
SELECT ct.contact_id AS owner_id, t.id, t.name, t.colour, 0::bigint AS contacts
FROM crm.contact_tags ct
JOIN crm.contacts c ON c.id = ct.contact_id
JOIN crm.tags t ON t.id = ct.tag_id
WHERE ct.contact_id = ANY(%(ids)s::bigint[]) AND c.user_id = %(user_id)s
ORDER BY ct.contact_id, lower(t.name), t.id
