-- How far a run may fold: up to the first message above the cursor that extract-contacts has
-- not processed yet (its links are still to come), unless it is older than the stale limit
-- (extraction gave up on it; `stuck` counts those). `pending` counts messages left for later.
-- The unprocessed ones are read from crm.message_pending by its key, in order, up to the first
-- that is not stale: not by scanning the user's mail above the cursor.
WITH blocking AS (
    SELECT p.message_id AS first_id
    FROM crm.message_pending p
    JOIN crm.messages m ON m.id = p.message_id
    WHERE p.user_id = %(user_id)s AND p.message_id > %(cursor)s
      AND m.created_on >= %(stale_before)s
    ORDER BY p.message_id
    LIMIT 1
)
SELECT greatest(%(cursor)s, coalesce(
           (SELECT first_id - 1 FROM blocking),
           (SELECT max(id) FROM crm.messages WHERE user_id = %(user_id)s AND id > %(cursor)s),
           %(cursor)s)) AS ready,
       (SELECT count(*) FROM blocking, crm.messages m
        WHERE m.user_id = %(user_id)s AND m.id >= blocking.first_id) AS pending,
       (SELECT count(*) FROM crm.message_pending p
        JOIN crm.messages m ON m.id = p.message_id
        WHERE p.user_id = %(user_id)s AND p.message_id > %(cursor)s
          AND p.message_id < coalesce((SELECT first_id FROM blocking), 9223372036854775807)
          AND m.created_on < %(stale_before)s) AS stuck
