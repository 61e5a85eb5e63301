-- Memoize a step's outcome (completed, failed, or a failed attempt to retry: error), while the
-- run's attempt still holds its lease; a completed or failed step is never overwritten.
INSERT INTO queue.workflow_step AS s (run_id, name, seq, kind, state, attempts, started_on,
    finished_on, output, error)
SELECT %(id)s, %(name)s, %(seq)s, %(kind)s, %(state)s::text, %(attempts)s, %(started_on)s,
    CASE WHEN %(state)s::text IN ('completed', 'failed') THEN now() END,
    %(output)s::jsonb, %(error)s::jsonb
WHERE EXISTS (SELECT 1 FROM queue.job j
              WHERE j.id = %(id)s AND j.attempt = %(attempt)s AND j.state = 'active')
ON CONFLICT (run_id, name) DO UPDATE
SET state = EXCLUDED.state, attempts = EXCLUDED.attempts, finished_on = EXCLUDED.finished_on,
    output = EXCLUDED.output, error = EXCLUDED.error
WHERE s.state NOT IN ('completed', 'failed')
RETURNING 1
