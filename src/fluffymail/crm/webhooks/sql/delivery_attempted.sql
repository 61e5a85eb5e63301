-- Log one attempt and bring the delivery up to date: delivered on a 2xx, failed when given
-- up (`final`), else still pending.
WITH logged AS (
    INSERT INTO crm.webhook_attempts (delivery_id, attempt, attempted_on, status, duration_ms, error)
    SELECT %(id)s, attempts + 1, %(now)s, %(status)s, %(duration_ms)s, %(error)s
    FROM crm.webhook_deliveries WHERE id = %(id)s
)
UPDATE crm.webhook_deliveries
SET attempts = attempts + 1, last_status = %(status)s, last_error = %(error)s,
    state = CASE WHEN %(ok)s THEN 'delivered' WHEN %(final)s THEN 'failed' ELSE 'pending' END,
    finished_on = CASE WHEN %(ok)s OR %(final)s THEN %(now)s END
WHERE id = %(id)s
RETURNING state
