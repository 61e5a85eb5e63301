-- Cancel queued or running jobs; a running attempt loses its lease and its result is refused.
WITH cancelled AS (
    UPDATE queue.job j SET state = 'cancelled', completed_on = now(),
        keep_until = now() + make_interval(secs => j.retention_seconds)
    FROM (SELECT id, state AS old_state FROM queue.job
          WHERE id = ANY(%(ids)s::bigint[]) AND state <= 'active' FOR UPDATE) old
    WHERE j.id = old.id
    RETURNING j.id, j.name, j.attempt, j.worker, j.started_on, old.old_state
), history AS (
    INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome)
    SELECT id, attempt, name, worker, started_on, 'cancelled' FROM cancelled WHERE old_state = 'active'
    ON CONFLICT DO NOTHING
)
SELECT id FROM cancelled
