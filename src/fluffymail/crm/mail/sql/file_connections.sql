-- A user's connections of one kind (mbox or maildir), oldest first, but those being deleted:
-- what an import of files may go to.
SELECT * FROM crm.connections
WHERE user_id = %(user_id)s AND kind = %(kind)s AND deleting_on IS NULL
ORDER BY id
