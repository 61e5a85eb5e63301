-- Every deletion candidate of the connection, removed from the list: the end of a sync decides
-- on them in the same transaction (0047_message_unlinked.sql).
DELETE FROM crm.message_unlinked
WHERE user_id = %(user_id)s AND connection_id = %(connection_id)s
RETURNING message_id
