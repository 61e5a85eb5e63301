-- Jobs completed per minute over the last `minutes` minutes, with the database's clock. Uses
-- the pruning index (keep_until = completed_on + retention) with each queue's retention, so it
-- never scans the table; a job that overrode its retention downwards may be left out.
SELECT date_trunc('minute', j.completed_on) AS minute, count(*) AS completed, now() AS db_now
FROM queue.queue q
JOIN queue.job j ON j.name = q.name AND j.state > 'active'
     AND j.keep_until >= now() - make_interval(mins => %(minutes)s) + make_interval(secs => q.retention_seconds)
WHERE j.state = 'completed'
  AND j.completed_on >= date_trunc('minute', now()) - make_interval(mins => %(minutes)s)
GROUP BY 1
UNION ALL
SELECT NULL, 0, now()
ORDER BY 1 NULLS FIRST
