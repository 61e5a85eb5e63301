UPDATE crm.connections
SET status = 'ok', last_synced_on = %(now)s, remaining_estimate = 0,
    last_error = NULL, last_error_on = NULL
WHERE id = %(id)s
