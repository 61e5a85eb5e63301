-- A previewed run is confirmed: the import job named here applies it.
UPDATE crm.import_runs
SET state = 'queued', queued_on = %(now)s, job_id = %(job_id)s
WHERE id = %(id)s AND user_id = %(user_id)s AND state = 'previewed'
RETURNING id
