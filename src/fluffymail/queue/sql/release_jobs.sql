-- Give unfinished attempts back to the queue at shutdown without spending a retry, in
-- queue.parking_state (0044).
WITH parked AS (   -- where each waits, asked once per job
    SELECT j.id, queue.parking_state(j) AS state
    FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[]) AS r (id, attempt)
    JOIN queue.job j ON j.id = r.id AND j.attempt = r.attempt AND j.state = 'active'
    ORDER BY j.id
    FOR UPDATE OF j
), released AS (
    UPDATE queue.job j SET state = p.state, start_after = now(), heartbeat_on = NULL
    FROM parked p
    WHERE j.id = p.id AND p.state IS NOT NULL  -- else it stays active: the rescuer fails it
    RETURNING j.id, j.name, j.attempt, j.worker, j.started_on
), history AS (
    INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome)
    SELECT id, attempt, name, worker, started_on, 'released' FROM released
    ON CONFLICT DO NOTHING
), wake AS (
    SELECT pg_notify('fluffymail_queue', name) FROM (SELECT DISTINCT name FROM released) n
)
SELECT id, (SELECT count(*) FROM wake) AS woken FROM released
