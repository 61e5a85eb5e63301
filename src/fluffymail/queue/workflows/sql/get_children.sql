-- The state and output of a step's child runs, in the order they were started.
SELECT j.id, j.state::text, j.output
FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS c (id, n)
LEFT JOIN queue.job j ON j.id = c.id
ORDER BY c.n
