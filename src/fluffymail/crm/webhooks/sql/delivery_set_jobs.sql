-- The queue job delivering each delivery (to tell, later, whether it will be attempted again).
UPDATE crm.webhook_deliveries d SET job_id = j.job_id
FROM unnest(%(ids)s::bigint[], %(job_ids)s::bigint[]) AS j (id, job_id)
WHERE d.id = j.id
