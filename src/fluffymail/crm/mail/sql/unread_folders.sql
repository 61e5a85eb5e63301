-- The connection's folders that a read from scratch did not name (gone from a newer export or
-- from the server).
SELECT name FROM crm.folders
WHERE connection_id = %(connection_id)s AND NOT (name = ANY(%(names)s::text[]))
ORDER BY name
