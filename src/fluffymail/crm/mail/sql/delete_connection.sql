-- The connection row itself, once its mail is gone: folders go with it (cascade), and so do
-- its encrypted credentials. Only a connection marked for deletion is removed.
DELETE FROM crm.connections WHERE id = %(id)s AND deleting_on IS NOT NULL
RETURNING kind, source
