-- Issue 16: faster, fairer rescue.
-- `job.running`: the worker has started (or may have started) this attempt's handler. Claims set
-- it false and the worker marks started attempts on its next round trip, so an attempt claimed
-- ahead that never started is given back without spending a retry when its worker dies.
-- Existing rows count as started (the conservative reading), new claims start out false.
ALTER TABLE queue.job ADD COLUMN running boolean NOT NULL DEFAULT true;
ALTER TABLE queue.job ALTER COLUMN running SET DEFAULT false;

-- `worker.locked`: the process holds a session advisory lock while it lives (on its LISTEN
-- connection), so the rescuer sees its death within seconds instead of waiting for heartbeats.
ALTER TABLE queue.worker ADD COLUMN locked boolean NOT NULL DEFAULT false;

CREATE OR REPLACE VIEW queue.attempts AS
    SELECT job_id, attempt, name, worker, started_on, finished_on, outcome, error,
           finished_on - started_on AS duration
    FROM queue.job_attempt
    UNION ALL
    SELECT id, attempt, name, worker, started_on, completed_on,
           CASE WHEN state = 'completed' THEN 'completed' WHEN running THEN 'running' ELSE 'claimed' END,
           NULL, completed_on - started_on
    FROM queue.job WHERE state IN ('active', 'completed') AND attempt > 0;
