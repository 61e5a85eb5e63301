-- Name evidence of contacts: every display name seen for any of their addresses.
SELECT c.id AS contact_id, c.primary_address, c.name, c.first_name, c.last_name, c.name_quality,
       v.display_name, v.votes
FROM crm.contacts c
LEFT JOIN crm.contact_addresses a ON a.contact_id = c.id
LEFT JOIN crm.contact_name_votes v ON v.user_id = a.user_id AND v.address = a.address
WHERE c.id = ANY(%(ids)s::bigint[])
ORDER BY c.id
