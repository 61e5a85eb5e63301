-- How many of a user's visible contacts match the list filters, for the list without a search
-- (contact_list_search.sql counts its own). Without a level or going-cold filter the join to
-- relationships is removed and the count reads contacts_list_recent_idx alone.
SELECT count(*)
FROM crm.contacts c
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
  AND c.suppressed_reason IS NULL
  AND (%(level)s::text IS NULL OR coalesce(r.level, 'no connection') = %(level)s::text)
  AND (%(going_cold)s::boolean IS NULL OR coalesce(r.going_cold, false) = %(going_cold)s::boolean)
  AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
  AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
