-- The contacts whose meetings changed since the last run (by the addresses the calendar sync
-- marked), forgotten as they are taken: the run recomposes their scores.
WITH taken AS (
    DELETE FROM crm.meeting_rescore WHERE user_id = %(user_id)s RETURNING address
)
SELECT DISTINCT coalesce(c.merged_into_id, c.id)
FROM taken
JOIN crm.contact_addresses a ON a.user_id = %(user_id)s AND a.address = taken.address
JOIN crm.contacts c ON c.id = a.contact_id
