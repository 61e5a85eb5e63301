-- New encrypted credentials (a refreshed token, or the user reconnecting). Reconnecting
-- (`reauthorized`) also clears a `needs_reauth` status so the next sync runs normally.
UPDATE crm.connections
SET credentials = %(credentials)s,
    status = CASE WHEN %(reauthorized)s AND status = 'needs_reauth' THEN 'ok' ELSE status END,
    last_error = CASE WHEN %(reauthorized)s AND status = 'needs_reauth' THEN NULL ELSE last_error END
WHERE id = %(id)s
