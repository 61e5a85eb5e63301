-- Pause (paused_on set) or resume (cleared) one of the user's connections; a connection being
-- deleted cannot change. No row: not the user's, or being deleted.
UPDATE crm.connections
SET paused_on = CASE WHEN %(paused)s THEN coalesce(paused_on, now()) END
WHERE id = %(id)s AND user_id = %(user_id)s AND deleting_on IS NULL
RETURNING id
