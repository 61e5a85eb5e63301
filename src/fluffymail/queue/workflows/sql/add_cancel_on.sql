-- A run's cancel_on rules: waits of their own that cancel the run when a matching event comes.
INSERT INTO queue.workflow_step (run_id, name, seq, kind, state, started_on, event, match)
SELECT %(id)s, '$cancel_on.' || r.n, -1, 'cancel_on', 'waiting', now(), r.event, coalesce(r.match, '{}')
FROM ROWS FROM (jsonb_to_recordset(%(rules)s::jsonb) AS (event text, match jsonb))
    WITH ORDINALITY AS r (event, match, n)
RETURNING name
