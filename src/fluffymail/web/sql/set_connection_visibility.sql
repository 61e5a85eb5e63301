-- Whether this connection's message bodies may be sent to an external AI model ('full') or
-- never ('metadata'). No row: not the user's, or being deleted.
UPDATE crm.connections SET visibility = %(visibility)s
WHERE id = %(id)s AND user_id = %(user_id)s AND deleting_on IS NULL
RETURNING id
