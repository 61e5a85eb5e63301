-- The demo user's contacts (merged ones resolved) by one of their addresses.
SELECT a.address, coalesce(c.merged_into_id, c.id) AS contact_id
FROM crm.contact_addresses a JOIN crm.contacts c ON c.id = a.contact_id
WHERE a.user_id = %(user_id)s AND a.address = ANY(%(addresses)s::text[])
