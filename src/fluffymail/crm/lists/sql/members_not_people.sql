-- Which of these contacts are not people (groups: distribution lists, team addresses), which
-- a list does not hold.
SELECT id, coalesce(nullif(name, ''), primary_address) AS label
FROM crm.contacts
WHERE id = ANY(%(contact_ids)s::bigint[]) AND kind <> 'person'
ORDER BY id
