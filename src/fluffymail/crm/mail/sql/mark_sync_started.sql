-- Only a connection that is neither paused, nor being deleted, nor waiting for new credentials
-- starts syncing (no row: skip it). A refused password is never tried again: providers lock
-- accounts, or ban addresses, that keep logging in with one.
UPDATE crm.connections
SET status = 'syncing', sync_started_on = %(now)s, seen_count = 0, stored_count = 0,
    remaining_estimate = NULL, progress_folder = NULL, last_progress_on = %(now)s
WHERE id = %(id)s AND paused_on IS NULL AND deleting_on IS NULL AND status <> 'needs_reauth'
RETURNING id
