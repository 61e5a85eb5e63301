-- Every step row of a run (one round trip when a run resumes), with the database's clock.
SELECT s.name, s.seq, s.kind, s.state, s.attempts, s.wake_at, s.output, s.error, s.children, now()
FROM (VALUES (1)) AS one (x)
LEFT JOIN queue.workflow_step s ON s.run_id = %(id)s AND s.seq >= 0
