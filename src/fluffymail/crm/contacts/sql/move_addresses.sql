-- Move addresses of one contact to another (all of them, or only those listed).
UPDATE crm.contact_addresses
SET contact_id = %(to_id)s
WHERE contact_id = %(from_id)s
  AND (%(addresses)s::text[] IS NULL OR address = ANY(%(addresses)s::text[]))
RETURNING address
