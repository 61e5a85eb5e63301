-- The attendees of a batch of meetings (the user's own addresses left out by the caller).
INSERT INTO crm.meeting_attendees (meeting_id, user_id, address, name, response, organizer)
SELECT a.meeting_id, %(user_id)s, a.address, a.name, a.response, a.organizer
FROM jsonb_to_recordset(%(rows)s::jsonb) AS a(meeting_id bigint, address text, name text,
    response text, organizer boolean)
ORDER BY a.meeting_id, a.address
ON CONFLICT (meeting_id, address) DO NOTHING
