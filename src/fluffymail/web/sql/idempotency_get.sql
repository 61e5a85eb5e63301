-- The request a key was first used with and its response (NULL status: still running).
SELECT request_hash, status, body
FROM crm.idempotency_keys
WHERE user_id = %(user_id)s AND key = %(key)s
