-- Pause the group keys of these jobs for the given seconds (an upstream asked everyone to wait).
INSERT INTO queue.job_group (name, group_key, paused_until)
SELECT j.name, j.group_key, now() + make_interval(secs => p.seconds)
FROM unnest(%(ids)s::bigint[], %(seconds)s::float8[]) AS p (id, seconds)
JOIN queue.job j ON j.id = p.id
WHERE j.group_key IS NOT NULL
ON CONFLICT (name, group_key) DO UPDATE
SET paused_until = greatest(coalesce(queue.job_group.paused_until, now()), EXCLUDED.paused_until)
RETURNING group_key
