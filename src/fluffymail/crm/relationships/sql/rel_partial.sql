-- While a connection of the user is on its first import (syncing, never finished): how many
-- of the user's stored messages the ranking covers (at or below the analysis cursor) and how
-- many the imports expect in all (stored so far plus the sources' estimates of the rest).
-- No row when nothing is importing.
WITH importing AS (
    SELECT sum(coalesce(remaining_estimate, 0)) AS remaining
    FROM crm.connections
    WHERE user_id = %(user_id)s AND status = 'syncing' AND last_synced_on IS NULL
      AND deleting_on IS NULL
    HAVING count(*) > 0
), run AS (
    SELECT coalesce(max(last_message_id), 0) AS cursor
    FROM crm.relationship_runs WHERE user_id = %(user_id)s
)
SELECT count(m.id) FILTER (WHERE m.id <= run.cursor) AS analyzed,
       count(m.id) + importing.remaining AS expected
FROM importing
CROSS JOIN run
LEFT JOIN crm.messages m ON m.user_id = %(user_id)s
GROUP BY importing.remaining, run.cursor
