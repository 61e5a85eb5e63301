-- A contact's addresses, the primary one first.
SELECT a.address, a.undeliverable, a.address = c.primary_address AS is_primary
FROM crm.contact_addresses a
JOIN crm.contacts c ON c.id = a.contact_id
WHERE a.contact_id = %(id)s AND a.user_id = %(user_id)s
ORDER BY a.address = c.primary_address DESC, a.address
