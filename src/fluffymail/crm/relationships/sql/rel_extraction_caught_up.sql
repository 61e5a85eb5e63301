-- Has extraction caught up with the user's mail above the analysis cursor: no message there
-- is still waiting for extract-contacts (one older than the stale limit does not count, as in
-- rel_ready_cursor.sql)? Asked after each extraction batch, so the analysis waiting for the
-- batches runs as soon as the last one is done instead of at its debounce.
-- While a sync of the user runs the answer is no without reading the mail: the sync's end
-- starts the analysis itself, and the scan (every message extracted but not yet analysed)
-- would otherwise run after each of a big import's batches. The waiting messages are read from
-- crm.message_pending by its key (a few rows), not by scanning the user's mail.
SELECT CASE
    WHEN EXISTS (
        SELECT 1 FROM crm.connections
        WHERE user_id = %(user_id)s AND status = 'syncing' AND deleting_on IS NULL
    ) THEN false
    ELSE NOT EXISTS (
        SELECT 1 FROM crm.message_pending p
        JOIN crm.messages m ON m.id = p.message_id
        WHERE p.user_id = %(user_id)s
          AND p.message_id > coalesce(
              (SELECT r.last_message_id FROM crm.relationship_runs r
               WHERE r.user_id = %(user_id)s), 0)
          AND m.created_on >= %(stale_before)s
    )
END
