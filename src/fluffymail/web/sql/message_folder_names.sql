-- The names of the user's folders (for the message list's folder filter), each once.
SELECT DISTINCT f.name
FROM crm.folders f
JOIN crm.connections c ON c.id = f.connection_id
WHERE c.user_id = %(user_id)s
ORDER BY f.name
