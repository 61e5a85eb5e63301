-- Only a connection that is neither paused nor being deleted starts syncing (no row: skip it).
UPDATE crm.connections
SET status = 'syncing', sync_started_on = %(now)s, seen_count = 0, stored_count = 0,
    remaining_estimate = NULL
WHERE id = %(id)s AND paused_on IS NULL AND deleting_on IS NULL
RETURNING id
