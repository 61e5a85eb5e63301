-- Let a key go when its first request failed, so a retry with it runs afresh.
DELETE FROM crm.idempotency_keys WHERE user_id = %(user_id)s AND key = %(key)s
