-- Record the end of a calendar sync: the new cursor (sync token) or why it failed.
UPDATE crm.connections
SET calendar_cursor = coalesce(%(cursor)s::jsonb, calendar_cursor),
    calendar_synced_on = CASE WHEN %(error)s::text IS NULL THEN %(now)s ELSE calendar_synced_on END,
    calendar_error = %(error)s
WHERE id = %(connection_id)s
