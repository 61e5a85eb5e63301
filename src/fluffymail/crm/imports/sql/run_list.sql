-- The user's import runs, newest first.
SELECT id, kind, format, filename, state, mapping, total_rows, good_rows, problems, warnings,
       created_count, updated_count, job_id, last_error, created_on, queued_on, finished_on
FROM crm.import_runs
WHERE user_id = %(user_id)s
ORDER BY id DESC
LIMIT %(limit)s
