-- A user's strongest relationships with the contact behind each (visible contacts only,
-- unless `everyone`: then also contacts counted but not created under the policy).
SELECT r.contact_id, c.name, c.primary_address, r.score, r.level, r.trend, r.going_cold,
       r.sent, r.received, r.two_way_threads, r.first_at, r.last_at, r.evidence, r.computed_on
FROM crm.relationships r
JOIN crm.contacts c ON c.id = r.contact_id
WHERE r.user_id = %(user_id)s AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
  AND (c.created OR %(everyone)s) AND c.kind = 'person'  -- groups: never a top contact
ORDER BY r.score DESC, r.last_at DESC NULLS LAST, r.contact_id
LIMIT %(limit)s
