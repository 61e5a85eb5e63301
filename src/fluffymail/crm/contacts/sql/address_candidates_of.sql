-- The batch's new and newly named contacts (by id) with their addresses at the batch's company
-- hosts or with the local parts of its newly named addresses, and their stored names: where
-- identity.address_pairs starts. Read by key (contact_addresses_contact_idx, contacts_pkey).
SELECT c.id, a.address, c.name, c.first_name, c.last_name, c.name_quality
FROM crm.contact_addresses a
JOIN crm.contacts c ON c.id = a.contact_id
WHERE a.contact_id = ANY(%(ids)s::bigint[]) AND c.user_id = %(user_id)s
  AND (split_part(a.address, '@', 2) = ANY(%(hosts)s::text[])
       OR split_part(a.address, '@', 1) = ANY(%(locals)s::text[]))
  AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
ORDER BY c.id, a.address
