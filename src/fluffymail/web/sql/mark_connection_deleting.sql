-- Mark one of the user's connections for deletion (idempotent); no row: not the user's.
UPDATE crm.connections
SET deleting_on = coalesce(deleting_on, now())
WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING id
