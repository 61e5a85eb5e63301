-- The newest runs not finished yet (any with a step recorded), with their step counts and the
-- step they are suspended on, if any.
SELECT j.id, j.name, j.state::text AS state, j.created_on,
       count(*) FILTER (WHERE s.state = 'completed' AND s.seq >= 0)::integer AS steps_done,
       count(*) FILTER (WHERE s.seq >= 0)::integer AS steps_known,
       coalesce(sum(cardinality(s.children)), 0)::integer AS children,
       coalesce(sum(s.pending) FILTER (WHERE s.state IN ('open', 'waiting')), 0)::integer AS pending,
       min(s.name) FILTER (WHERE s.state IN ('waiting', 'sleeping') AND s.seq >= 0) AS waiting_on
FROM queue.workflow_step s
JOIN queue.job j ON j.id = s.run_id AND j.state < 'completed'
GROUP BY j.id
ORDER BY j.id DESC
LIMIT %(limit)s
