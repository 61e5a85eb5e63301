-- The start of every meeting each scoring contact attended with the user (a merged contact's
-- count for the contact it was merged into; suppressed contacts score nothing): not declined
-- by either side and with at most 20 people besides the user (calendar.models.MAX_ATTENDEES).
-- Read from the user's meeting attendees, so a user without meetings costs one index probe.
SELECT x.contact_id, array_agg(x.starts_on ORDER BY x.starts_on, x.id)
FROM (SELECT DISTINCT coalesce(c.merged_into_id, c.id) AS contact_id, m.id, m.starts_on
      FROM crm.meeting_attendees ma
      JOIN crm.meetings m ON m.id = ma.meeting_id
      JOIN crm.contact_addresses a ON a.user_id = ma.user_id AND a.address = ma.address
      JOIN crm.contacts c ON c.id = a.contact_id
      WHERE ma.user_id = %(user_id)s AND ma.response <> 'declined'
        AND m.self_response IS DISTINCT FROM 'declined' AND m.attendees <= 20) x
JOIN crm.contacts t ON t.id = x.contact_id AND t.suppressed_reason IS NULL
GROUP BY x.contact_id
