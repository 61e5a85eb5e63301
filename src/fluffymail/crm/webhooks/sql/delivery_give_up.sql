-- A delivery no job will attempt again (retries spent, or its job lost): failed.
UPDATE crm.webhook_deliveries
SET state = 'failed', finished_on = %(now)s, last_error = coalesce(%(error)s, last_error)
WHERE id = ANY(%(ids)s::bigint[]) AND state = 'pending'
RETURNING id
