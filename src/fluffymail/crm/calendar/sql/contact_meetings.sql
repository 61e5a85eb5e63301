-- A contact's meetings (any of its addresses attended), newest first, with its answer.
SELECT m.id, m.title, m.location, m.starts_on, m.ends_on, m.all_day, m.calendar, m.attendees,
       min(ma.response) AS response, bool_or(ma.organizer) AS organizer
FROM crm.contact_addresses a
JOIN crm.meeting_attendees ma ON ma.user_id = a.user_id AND ma.address = a.address
JOIN crm.meetings m ON m.id = ma.meeting_id
WHERE a.contact_id = %(contact_id)s AND a.user_id = %(user_id)s
  AND (%(before)s::timestamptz IS NULL OR m.starts_on < %(before)s)
  AND (%(since)s::timestamptz IS NULL OR m.starts_on >= %(since)s)
GROUP BY m.id
ORDER BY m.starts_on DESC, m.id DESC
LIMIT %(limit)s
