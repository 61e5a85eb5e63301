-- Addresses another transaction just created (or a contact whose own address row is
-- missing, which is repaired): one statement, a fresh snapshot.
WITH repaired AS (
    INSERT INTO crm.contact_addresses (user_id, address, contact_id, created_on)
    SELECT c.user_id, c.primary_address, c.id, %(now)s FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.primary_address = ANY(%(addresses)s::text[])
      AND NOT EXISTS (SELECT 1 FROM crm.contact_addresses a
                      WHERE a.user_id = c.user_id AND a.address = c.primary_address)
    ORDER BY c.primary_address
    ON CONFLICT (user_id, address) DO NOTHING
    RETURNING address, contact_id
)
SELECT address, contact_id FROM repaired
UNION ALL
SELECT address, contact_id FROM crm.contact_addresses
WHERE user_id = %(user_id)s AND address = ANY(%(addresses)s::text[])
