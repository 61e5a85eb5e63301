-- Has extraction caught up with the user's mail above the analysis cursor: no message there
-- is still waiting for extract-contacts (one older than the stale limit does not count, as in
-- rel_ready_cursor.sql)? Asked after each extraction batch, so the analysis waiting for the
-- batches runs as soon as the last one is done instead of at its debounce.
SELECT NOT EXISTS (
    SELECT 1 FROM crm.messages m
    WHERE m.user_id = %(user_id)s
      AND m.id > coalesce(
          (SELECT r.last_message_id FROM crm.relationship_runs r WHERE r.user_id = %(user_id)s), 0)
      AND m.processed_on IS NULL AND m.created_on >= %(stale_before)s
)
