-- A connection's calendar sync state and what the calendar sync needs of it.
SELECT c.id, c.user_id, c.kind, c.contact_policy, c.calendar_cursor,
       c.paused_on IS NOT NULL OR c.deleting_on IS NOT NULL AS inactive
FROM crm.connections c
WHERE c.id = %(connection_id)s
