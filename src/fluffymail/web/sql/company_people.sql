-- The visible people at one of the user's companies, strongest relationship first.
SELECT c.id, c.name, c.primary_address, c.is_internal, c.last_interaction_on,
       c.sent_to_count, c.received_from_count,
       (SELECT to_jsonb(f) FROM crm.contact_figures f WHERE f.contact_id = c.id) AS figures,
       r.score, coalesce(r.level, 'no connection') AS level, r.trend,
       coalesce(r.going_cold, false) AS going_cold
FROM crm.contacts c
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
WHERE c.company_id = %(id)s AND c.user_id = %(user_id)s AND c.created
  AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
  AND c.kind = 'person'  -- as the contacts list under ?company= (groups live on /groups)
ORDER BY coalesce(r.score, -1) DESC, r.last_at DESC NULLS LAST, c.id
LIMIT %(limit)s
