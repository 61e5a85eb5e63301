-- What a drain run leaves in its queues: jobs due now that nobody took, jobs running (here or on
-- other workers), and when the next deferred job or schedule tick of the queue comes due.
SELECT q.name,
       (SELECT count(*) FROM queue.job j
        WHERE j.name = q.name AND j.state < 'active' AND j.start_after <= now()) AS due,
       (SELECT count(*) FROM queue.job j WHERE j.name = q.name AND j.state = 'active') AS active,
       least((SELECT min(j.start_after) FROM queue.job j
              WHERE j.name = q.name AND j.state < 'active' AND j.start_after > now()),
             (SELECT min(s.next_tick) FROM queue.schedule s WHERE s.name = q.name)) AS next_due,
       q.paused OR coalesce(q.paused_until > now(), false) AS paused
FROM queue.queue q
WHERE q.name = ANY(%(names)s::text[])
ORDER BY q.name
