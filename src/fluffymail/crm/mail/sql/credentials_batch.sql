-- The next batch of stored credentials after connection `after`, in id order (key rotation).
SELECT id, credentials
FROM crm.connections
WHERE credentials IS NOT NULL AND id > %(after)s
ORDER BY id
LIMIT %(limit)s
