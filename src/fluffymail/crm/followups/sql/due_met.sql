-- "Met N weeks ago, no mail since": per visible person, the last meeting that counts (as in
-- the score: not declined by either side, at most 20 others) when it ended within
-- (since, due_before] and no message either way (To, From or Cc) is dated after its end.
WITH last_meeting AS (
    SELECT DISTINCT ON (t.id) t.id AS contact_id, m.id AS meeting_id, m.title, m.ends_on
    FROM crm.meeting_attendees ma
    JOIN crm.meetings m ON m.id = ma.meeting_id
    JOIN crm.contact_addresses a ON a.user_id = ma.user_id AND a.address = ma.address
    JOIN crm.contacts c ON c.id = a.contact_id
    JOIN crm.contacts t ON t.id = coalesce(c.merged_into_id, c.id)
    WHERE ma.user_id = %(user_id)s AND ma.response <> 'declined'
      AND m.self_response IS DISTINCT FROM 'declined' AND m.attendees <= 20
      AND m.starts_on <= %(now)s
      AND t.created AND t.suppressed_reason IS NULL AND t.merged_into_id IS NULL
      AND t.kind = 'person'
    ORDER BY t.id, m.starts_on DESC, m.id DESC
)
SELECT lm.contact_id, lm.meeting_id, lm.title, lm.ends_on
FROM last_meeting lm
WHERE lm.ends_on <= %(due_before)s AND lm.ends_on > %(since)s
  AND NOT EXISTS (
      SELECT 1
      FROM crm.contact_addresses a
      JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
      WHERE a.contact_id = lm.contact_id AND a.user_id = %(user_id)s
        AND l.role IN ('sent_to', 'received_from', 'cc') AND l.occurred_on > lm.ends_on)
