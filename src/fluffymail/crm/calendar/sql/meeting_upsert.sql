-- Insert or update a batch of one calendar's meetings (event ids unique in the batch, sorted:
-- concurrent syncs lock in one order); the id of each by its event id.
INSERT INTO crm.meetings AS m (user_id, connection_id, calendar, event_id, title, location,
    starts_on, ends_on, all_day, organizer, self_response, attendees, created_on, updated_on)
SELECT %(user_id)s, %(connection_id)s, %(calendar)s, i.event_id, i.title, i.location,
       i.starts_on, i.ends_on, i.all_day, i.organizer, i.self_response, i.attendees,
       %(now)s, %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS i(event_id text, title text, location text,
    starts_on timestamptz, ends_on timestamptz, all_day boolean, organizer text,
    self_response text, attendees integer)
ORDER BY i.event_id
ON CONFLICT (user_id, calendar, event_id) DO UPDATE SET
    connection_id = excluded.connection_id, title = excluded.title,
    location = excluded.location, starts_on = excluded.starts_on, ends_on = excluded.ends_on,
    all_day = excluded.all_day, organizer = excluded.organizer,
    self_response = excluded.self_response, attendees = excluded.attendees,
    updated_on = excluded.updated_on
RETURNING m.id, m.event_id
