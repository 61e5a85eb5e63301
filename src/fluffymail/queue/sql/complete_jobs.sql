-- Complete attempts by lease; stale leases are ignored and simply not returned.
SELECT id FROM queue.complete_jobs(%(ids)s::bigint[], %(attempts)s::integer[], %(outputs)s::jsonb) AS id
