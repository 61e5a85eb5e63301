-- How far a run may fold: up to the first message above the cursor that extract-contacts has
-- not processed yet (its links are still to come), unless it is older than the stale limit
-- (extraction gave up on it; `stuck` counts those). `pending` counts messages left for later.
WITH above AS (
    SELECT id, processed_on IS NULL AS unprocessed, created_on < %(stale_before)s AS stale
    FROM crm.messages
    WHERE user_id = %(user_id)s AND id > %(cursor)s
), blocking AS (
    SELECT min(id) AS first_id FROM above WHERE unprocessed AND NOT stale
)
SELECT greatest(%(cursor)s, coalesce(
           (SELECT first_id - 1 FROM blocking),
           (SELECT max(id) FROM above),
           %(cursor)s)) AS ready,
       (SELECT count(*) FROM above, blocking WHERE above.id >= blocking.first_id) AS pending,
       (SELECT count(*) FROM above, blocking
        WHERE above.unprocessed AND above.stale
          AND above.id < coalesce(blocking.first_id, 9223372036854775807)) AS stuck
