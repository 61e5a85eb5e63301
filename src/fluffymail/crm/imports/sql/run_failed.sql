-- An attempt of the import job failed (rolled back whole): the job retries it, unless this was
-- its last attempt, which leaves the run 'failed' (confirming it again queues a new try).
UPDATE crm.import_runs
SET last_error = %(error)s,
    state = CASE WHEN %(final)s THEN 'failed' ELSE state END,
    finished_on = CASE WHEN %(final)s THEN %(now)s ELSE finished_on END
WHERE id = %(id)s AND state = 'queued'
