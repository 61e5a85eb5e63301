-- Job counts per queue and state; queued jobs not yet due are counted as `deferred`.
SELECT q.name,
       count(*) FILTER (WHERE j.state = 'created' AND j.start_after <= now()) AS created,
       count(*) FILTER (WHERE j.state < 'active' AND j.start_after > now()) AS deferred,
       count(*) FILTER (WHERE j.state = 'retry' AND j.start_after <= now()) AS retry,
       count(*) FILTER (WHERE j.state = 'active') AS active,
       count(*) FILTER (WHERE j.state = 'completed') AS completed,
       count(*) FILTER (WHERE j.state = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE j.state = 'failed') AS failed
FROM queue.queue q LEFT JOIN queue.job j ON j.name = q.name
WHERE %(name)s::text IS NULL OR q.name = %(name)s::text
GROUP BY q.name ORDER BY q.name
