-- One user's connections, newest first (never another user's: the user id is part of every query).
SELECT id, user_id, kind, source, display_name, status, last_error, last_error_on, last_synced_on,
       sync_started_on, seen_count, stored_count, remaining_estimate, created_on, paused_on,
       deleting_on, visibility, contact_policy, progress_folder, calendar_synced_on,
       calendar_error,
       -- stalled: syncing, and the server silent for 8 s (a sync writes its answers every 2 s)
       CASE WHEN status = 'syncing' AND last_progress_on < now() - interval '8 seconds'
            THEN floor(extract(epoch FROM now() - last_progress_on))::int
       END AS stalled_seconds
FROM crm.connections WHERE user_id = %(user_id)s ORDER BY id DESC
