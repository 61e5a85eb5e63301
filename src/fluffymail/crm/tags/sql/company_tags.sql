-- The tags on each of the user's companies given, by name.
SELECT ct.company_id AS owner_id, t.id, t.name, t.colour, 0::bigint AS contacts
FROM crm.company_tags ct
JOIN crm.companies co ON co.id = ct.company_id
JOIN crm.tags t ON t.id = ct.tag_id
WHERE ct.company_id = ANY(%(ids)s::bigint[]) AND co.user_id = %(user_id)s
ORDER BY ct.company_id, lower(t.name), t.id
