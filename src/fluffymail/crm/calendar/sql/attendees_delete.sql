-- Forget the attendees of these meetings (before writing them again); their addresses.
DELETE FROM crm.meeting_attendees a
WHERE a.meeting_id = ANY(%(meeting_ids)s::bigint[])
RETURNING a.address
