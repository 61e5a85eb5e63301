-- Recount threads after some of their messages were deleted; threads left empty go.
WITH counts AS (
    SELECT t.id, count(m.id) AS n, min(m.date) AS first_date, max(m.date) AS last_date
    FROM crm.threads t
    LEFT JOIN crm.messages m ON m.thread_id = t.id
    WHERE t.id = ANY(%(ids)s)
    GROUP BY t.id
), emptied AS (
    DELETE FROM crm.threads t USING counts c WHERE t.id = c.id AND c.n = 0
)
UPDATE crm.threads t
SET message_count = c.n, first_date = c.first_date, last_date = c.last_date
FROM counts c
WHERE t.id = c.id AND c.n > 0
