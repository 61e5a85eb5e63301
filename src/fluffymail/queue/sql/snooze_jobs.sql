-- Run attempts again after a delay without spending a retry (the handler asked to snooze), in
-- queue.parking_state (0044).
WITH parked AS (   -- where each waits, asked once per job
    SELECT j.id, s.seconds, queue.parking_state(j) AS state
    FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[], %(seconds)s::float8[]) AS s (id, attempt, seconds)
    JOIN queue.job j ON j.id = s.id AND j.attempt = s.attempt AND j.state = 'active'
    ORDER BY j.id
    FOR UPDATE OF j
), snoozed AS (
    UPDATE queue.job j
    SET state = p.state, start_after = now() + make_interval(secs => p.seconds), heartbeat_on = NULL
    FROM parked p
    WHERE j.id = p.id AND p.state IS NOT NULL  -- else it stays active: the rescuer fails it
    RETURNING j.id, j.name, j.attempt, j.worker, j.started_on, p.seconds
), history AS (
    INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome, error)
    SELECT id, attempt, name, worker, started_on, 'snoozed', jsonb_build_object('seconds', seconds)
    FROM snoozed
    ON CONFLICT DO NOTHING
)
SELECT id FROM snoozed
