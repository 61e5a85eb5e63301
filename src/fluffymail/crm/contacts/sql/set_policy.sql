-- A connection's creation policy (who becomes a visible contact). No row: not the user's, or
-- being deleted.
UPDATE crm.connections SET contact_policy = %(policy)s
WHERE id = %(id)s AND user_id = %(user_id)s AND deleting_on IS NULL
RETURNING id
