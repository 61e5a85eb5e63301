-- Run attempts again after a delay without spending a retry (the handler asked to snooze), in
-- queue.parking_state (0044).
WITH snoozed AS (
    UPDATE queue.job j
    SET state = queue.parking_state(j), start_after = now() + make_interval(secs => s.seconds), heartbeat_on = NULL
    FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[], %(seconds)s::float8[]) AS s (id, attempt, seconds)
    WHERE j.id = s.id AND j.attempt = s.attempt AND j.state = 'active'
      AND queue.parking_state(j) IS NOT NULL  -- else it stays active: the rescuer fails it
    RETURNING j.id, j.name, j.attempt, j.worker, j.started_on, s.seconds
), history AS (
    INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome, error)
    SELECT id, attempt, name, worker, started_on, 'snoozed', jsonb_build_object('seconds', seconds)
    FROM snoozed
    ON CONFLICT DO NOTHING
)
SELECT id FROM snoozed
