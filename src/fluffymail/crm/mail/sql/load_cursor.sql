-- A connection's cursor, part by part (`crm.mail.cursors.join` puts it together).
SELECT folder, position FROM crm.sync_cursors
WHERE user_id = %(user_id)s AND connection_id = %(id)s
