-- status is 'failed' (retried) or 'needs_reauth' (the user must reconnect).
UPDATE crm.connections
SET status = %(status)s, last_error = %(error)s, last_error_on = %(now)s
WHERE id = %(id)s
