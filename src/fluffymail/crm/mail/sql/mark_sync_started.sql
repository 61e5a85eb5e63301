UPDATE crm.connections
SET status = 'syncing', sync_started_on = %(now)s, seen_count = 0, stored_count = 0,
    remaining_estimate = NULL
WHERE id = %(id)s
