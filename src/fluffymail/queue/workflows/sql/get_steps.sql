-- Every step row of a run, in the order the code asked for them (cancel_on rules last).
SELECT name, seq, kind,
    CASE WHEN state = 'sleeping' AND wake_at <= now() THEN 'completed' ELSE state END AS state,
    attempts, started_on, finished_on, wake_at, event, match, cardinality(children) AS children,
    pending, output, error
FROM queue.workflow_step
WHERE run_id = %(id)s
ORDER BY seq < 0, seq, name
