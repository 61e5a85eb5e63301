-- Give unfinished attempts back to the queue at shutdown without spending a retry, in
-- queue.parking_state (0044).
WITH released AS (
    UPDATE queue.job j SET state = queue.parking_state(j), start_after = now(), heartbeat_on = NULL
    FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[]) AS r (id, attempt)
    WHERE j.id = r.id AND j.attempt = r.attempt AND j.state = 'active'
      AND queue.parking_state(j) IS NOT NULL  -- else it stays active: the rescuer fails it (0044)
    RETURNING j.id, j.name, j.attempt, j.worker, j.started_on
), history AS (
    INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome)
    SELECT id, attempt, name, worker, started_on, 'released' FROM released
    ON CONFLICT DO NOTHING
), wake AS (
    SELECT pg_notify('fluffymail_queue', name) FROM (SELECT DISTINCT name FROM released) n
)
SELECT id, (SELECT count(*) FROM wake) AS woken FROM released
