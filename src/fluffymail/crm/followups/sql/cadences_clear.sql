-- Clear the cadence of the user's contacts; each that had one, with its old cadence.
DELETE FROM crm.contact_cadences
WHERE user_id = %(user_id)s AND contact_id = ANY(%(contact_ids)s::bigint[])
RETURNING contact_id, days AS before
