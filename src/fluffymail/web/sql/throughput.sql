-- Jobs completed per minute over the last `minutes` minutes (read-only; for the dashboard chart).
-- TODO(issue 7): belongs in queue/store.py with an index on completed_on.
SELECT date_trunc('minute', completed_on) AS minute, count(*) AS completed
FROM queue.job
WHERE state = 'completed' AND completed_on >= date_trunc('minute', now()) - make_interval(mins => %(minutes)s)
GROUP BY 1 ORDER BY 1
