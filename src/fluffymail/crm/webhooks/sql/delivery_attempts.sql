-- The attempts of some deliveries, in order.
SELECT delivery_id, attempt, attempted_on, status, duration_ms, error
FROM crm.webhook_attempts
WHERE delivery_id = ANY(%(ids)s::bigint[])
ORDER BY delivery_id, attempt
