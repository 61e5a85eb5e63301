-- One page of a user's live, visible contacts with their relationship, filtered and sorted;
-- `total` counts every match. `pattern` is an ILIKE pattern (wildcards escaped) or NULL.
SELECT c.id, c.name, c.primary_address, c.company_id, co.name AS company_name, c.is_internal,
       c.first_interaction_on, c.last_interaction_on, c.sent_to_count, c.received_from_count,
       r.score, coalesce(r.level, 'no connection') AS level, r.trend,
       coalesce(r.going_cold, false) AS going_cold,
       count(*) OVER () AS total
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
ORDER BY
    CASE WHEN %(sort)s::text = 'strength' THEN coalesce(r.score, -1) END DESC,
    CASE WHEN %(sort)s::text = 'last_interaction' THEN c.last_interaction_on END DESC NULLS LAST,
    CASE WHEN %(sort)s::text = 'name' THEN lower(coalesce(nullif(c.name, ''), c.primary_address)) END,
    c.last_interaction_on DESC NULLS LAST, c.id
LIMIT %(limit)s OFFSET %(offset)s
