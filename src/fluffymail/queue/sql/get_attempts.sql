-- Every attempt of a job, oldest first.
SELECT attempt, worker, started_on, finished_on, outcome, error, extract(epoch FROM duration) AS seconds
FROM queue.attempts WHERE job_id = %(id)s ORDER BY attempt
