-- How many of a user's contacts match the list filters (contact_list.sql without the page).
SELECT count(*)
FROM crm.contacts c
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
LEFT JOIN crm.companies co ON co.id = c.company_id
WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
  AND c.suppressed_reason IS NULL
  AND (%(level)s::text IS NULL OR coalesce(r.level, 'no connection') = %(level)s::text)
  AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
  AND (%(going_cold)s::boolean IS NULL OR coalesce(r.going_cold, false) = %(going_cold)s::boolean)
  AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
  AND (%(pattern)s::text IS NULL
       OR c.name ILIKE %(pattern)s::text
       OR co.name ILIKE %(pattern)s::text
       OR EXISTS (SELECT 1 FROM crm.contact_addresses a
                  WHERE a.contact_id = c.id AND a.address ILIKE %(pattern)s::text))
