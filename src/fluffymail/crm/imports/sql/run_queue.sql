-- A previewed run is confirmed (or a failed one tried again): the import job named here applies it.
UPDATE crm.import_runs
SET state = 'queued', queued_on = %(now)s, job_id = %(job_id)s, finished_on = NULL
WHERE id = %(id)s AND user_id = %(user_id)s AND state IN ('previewed', 'failed')
RETURNING id
