-- How the jobs of a run's group ended: their number in each state.
SELECT coalesce(j.state::text, 'deleted') AS state, count(*)::integer
FROM queue.workflow_step s
CROSS JOIN LATERAL unnest(s.children) AS c (id)
LEFT JOIN queue.job j ON j.id = c.id
WHERE s.run_id = %(id)s AND s.name = %(name)s
GROUP BY 1
