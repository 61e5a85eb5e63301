-- A stored batch's counts; true when the connection was paused or marked for deletion since
-- its sync started (the sync stops after this batch).
UPDATE crm.connections
SET seen_count = seen_count + %(seen)s, stored_count = stored_count + %(stored)s,
    remaining_estimate = %(remaining)s
WHERE id = %(id)s
RETURNING paused_on IS NOT NULL OR deleting_on IS NOT NULL AS stopping
