-- Remember the response a key's first request got.
UPDATE crm.idempotency_keys SET status = %(status)s, body = %(body)s
WHERE user_id = %(user_id)s AND key = %(key)s
