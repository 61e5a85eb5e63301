-- One of the user's import runs (another user's is not found).
SELECT id, kind, format, filename, state, mapping, total_rows, good_rows, problems, warnings,
       created_count, updated_count, job_id, last_error, created_on, queued_on, finished_on
FROM crm.import_runs
WHERE id = %(id)s AND user_id = %(user_id)s
