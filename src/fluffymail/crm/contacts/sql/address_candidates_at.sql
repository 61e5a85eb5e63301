-- The live people without a full name at these exact addresses (the handles a newly named
-- contact's name makes at its host: the primary key answers), each with all its addresses at
-- the hosts (identity.address_pairs tries them in order). The people first, then their
-- addresses by contact_addresses_contact_idx: an estimate of the host filter must not turn
-- this into a scan of every address.
WITH people AS MATERIALIZED (
    SELECT DISTINCT c.id, c.name, c.first_name, c.last_name, c.name_quality
    FROM crm.contact_addresses h
    JOIN crm.contacts c ON c.id = h.contact_id
    WHERE h.user_id = %(user_id)s AND h.address = ANY(%(addresses)s::text[])
      AND c.name_quality < 3
      AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
)
SELECT p.id, a.address, p.name, p.first_name, p.last_name, p.name_quality
FROM crm.contact_addresses a
JOIN people p ON p.id = a.contact_id
WHERE a.contact_id = ANY(ARRAY(SELECT id FROM people))
  AND split_part(a.address, '@', 2) = ANY(%(hosts)s::text[])
ORDER BY p.id, a.address
