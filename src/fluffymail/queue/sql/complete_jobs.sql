-- Complete attempts by lease; stale leases are ignored and simply not returned.
UPDATE queue.job j
SET state = 'completed', completed_on = now(), keep_until = now() + make_interval(secs => j.retention_seconds),
    output = nullif(%(outputs)s::jsonb -> (d.n - 1)::integer, 'null'::jsonb)
FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[]) WITH ORDINALITY AS d (id, attempt, n)
WHERE j.id = d.id AND j.attempt = d.attempt AND j.state = 'active'
RETURNING j.id
