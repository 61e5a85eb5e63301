-- Delete a calendar's meetings: those listed (`sweep` false: cancelled or gone), or all but
-- those listed (`sweep` true: after a full listing). Their attendees' addresses are marked
-- for rescoring (the snapshot still shows the attendees the cascade removes). How many.
WITH gone AS (
    DELETE FROM crm.meetings m
    WHERE m.user_id = %(user_id)s AND m.calendar = %(calendar)s
      AND (m.event_id = ANY(%(event_ids)s::text[])) <> %(sweep)s
    RETURNING m.id
), marked AS (
    INSERT INTO crm.meeting_rescore (user_id, address)
    SELECT DISTINCT %(user_id)s, a.address
    FROM crm.meeting_attendees a
    WHERE a.meeting_id IN (SELECT id FROM gone)
    ORDER BY 2
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM gone
