-- Addresses whose meetings changed: the next relationship analysis recomposes their contacts.
INSERT INTO crm.meeting_rescore (user_id, address)
SELECT DISTINCT %(user_id)s, address FROM unnest(%(addresses)s::text[]) AS address
ORDER BY 2
ON CONFLICT DO NOTHING
