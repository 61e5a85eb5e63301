-- One connection of one user: no row when it is someone else's (the API answers 404).
SELECT id, user_id, kind, source, display_name, status, last_error, last_error_on, last_synced_on,
       sync_started_on, seen_count, stored_count, remaining_estimate, created_on, paused_on,
       deleting_on, visibility
FROM crm.connections WHERE id = %(id)s AND user_id = %(user_id)s
