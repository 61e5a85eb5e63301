-- An attempt of the import job failed (rolled back whole); the job retries it.
UPDATE crm.import_runs SET last_error = %(error)s WHERE id = %(id)s AND state = 'queued'
