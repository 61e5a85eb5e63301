-- Forget the user's idempotency keys older than a day, and first requests that never finished
-- (their process died) after a minute.
DELETE FROM crm.idempotency_keys
WHERE user_id = %(user_id)s
  AND (created_on < now() - interval '24 hours'
       OR (status IS NULL AND created_on < now() - interval '1 minute'))
