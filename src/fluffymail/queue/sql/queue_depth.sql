-- Queued and running jobs per queue, and the age of the oldest job that could start now
-- (looked up among the first 1,000 in claim order, so the query stays cheap at any backlog).
SELECT q.name,
       (SELECT count(*) FROM queue.job j WHERE j.name = q.name AND j.state < 'active' AND j.start_after <= now()) AS available,
       (SELECT count(*) FROM queue.job j WHERE j.name = q.name AND j.state < 'active' AND j.start_after > now()) AS deferred,
       (SELECT count(*) FROM queue.job j WHERE j.name = q.name AND j.state = 'active') AS active,
       coalesce((SELECT extract(epoch FROM now() - min(start_after)) FROM (
            SELECT j.start_after FROM queue.job j
            WHERE j.name = q.name AND j.state < 'active' AND j.start_after <= now()
            ORDER BY j.priority DESC, j.id LIMIT 1000) oldest), 0) AS oldest_seconds,
       (SELECT count(*) FROM queue.worker w WHERE q.name = ANY(w.queues)) AS workers
FROM queue.queue q ORDER BY q.name
