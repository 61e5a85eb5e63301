-- Live people of a user with an address at one of the hosts or with one of the local parts,
-- with their stored names: the evidence of identity.address_pairs (a handle at a company's
-- host, a person's own local part at two companies). Pairs the user split apart before are
-- left out by undone_merges.sql.
SELECT c.id, a.address, c.name, c.first_name, c.last_name, c.name_quality
FROM crm.contact_addresses a
JOIN crm.contacts c ON c.id = a.contact_id
WHERE a.user_id = %(user_id)s
  AND (split_part(a.address, '@', 2) = ANY(%(hosts)s::text[])
       OR split_part(a.address, '@', 1) = ANY(%(locals)s::text[]))
  AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
ORDER BY c.id, a.address
