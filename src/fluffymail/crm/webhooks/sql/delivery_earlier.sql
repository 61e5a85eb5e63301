-- The deliveries of the same webhook and subject made before this one and still pending, with
-- their queue jobs: this one waits for them (order per contact).
SELECT id, job_id FROM crm.webhook_deliveries
WHERE webhook_id = %(webhook_id)s AND subject = %(subject)s AND state = 'pending' AND id < %(id)s
ORDER BY id
LIMIT 100
