-- Claim a key for a first request; no row back: the key is already taken (see idempotency_get).
INSERT INTO crm.idempotency_keys (user_id, key, request_hash)
VALUES (%(user_id)s, %(key)s, %(request_hash)s)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING key
