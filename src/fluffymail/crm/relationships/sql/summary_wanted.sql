-- Of the contacts whose relationship changed, those whose summary someone will read: the
-- user's top relationships by strength, and contacts whose page the user opened lately.
WITH top AS (
    SELECT r.contact_id
    FROM crm.relationships r
    WHERE r.user_id = %(user_id)s
    ORDER BY r.score DESC, r.contact_id
    LIMIT %(top)s
)
SELECT c.id
FROM unnest(%(ids)s::bigint[]) AS c (id)
WHERE c.id IN (SELECT contact_id FROM top)
   OR EXISTS (
        SELECT 1 FROM crm.contact_views v
        WHERE v.user_id = %(user_id)s AND v.contact_id = c.id
          AND v.viewed_on > now() - make_interval(days => %(viewed_within_days)s)
   )
ORDER BY c.id
