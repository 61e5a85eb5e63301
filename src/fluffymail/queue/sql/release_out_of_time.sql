-- Give back the attempts a drain run's time budget cut off (`fluffymail worker --drain`): the job
-- goes back to the queue without spending a retry, recorded as 'out of time', unless it was cut
-- off %(max_cutoffs)s times already: then the attempt fails (retried per the job's policy, then
-- dead-lettered), so a job that never fits the budget cannot hold every drain run to it forever.
WITH cut AS (
    SELECT j.id, j.attempt, p.state AS parking,
           (SELECT count(*) FROM queue.job_attempt a
            WHERE a.job_id = j.id AND a.outcome = 'out of time') < %(max_cutoffs)s
               AND p.state IS NOT NULL AS give_back
    FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[]) AS r (id, attempt)
    JOIN queue.job j ON j.id = r.id AND j.attempt = r.attempt AND j.state = 'active'
    CROSS JOIN LATERAL (SELECT queue.parking_state(j) AS state) p   -- asked once per job
    ORDER BY j.id
    FOR UPDATE OF j
), released AS (
    UPDATE queue.job j SET state = c.parking, start_after = now(), heartbeat_on = NULL
    FROM cut c
    WHERE j.id = c.id AND c.give_back
    RETURNING j.id, j.name, j.attempt, j.worker, j.started_on
), history AS (
    INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome, error)
    SELECT r.id, r.attempt, r.name, r.worker, r.started_on, 'out of time',
           jsonb_build_object('type', 'OutOfTime', 'message',
                              'the drain run''s time budget ended first; released without spending a retry')
    FROM released r
    ON CONFLICT DO NOTHING
), wake AS (
    SELECT pg_notify('fluffymail_queue', name) FROM (SELECT DISTINCT name FROM released) n
)
SELECT f.id, f.state::text
FROM queue.fail_jobs(
    ARRAY(SELECT id FROM cut WHERE NOT give_back ORDER BY id),
    ARRAY(SELECT attempt FROM cut WHERE NOT give_back ORDER BY id),
    coalesce((SELECT jsonb_agg(jsonb_build_object(
        'type', 'OutOfTime',
        'message', 'cut off by the end of a drain run''s time budget ' || %(max_cutoffs)s
                   || ' times before; this attempt fails') ORDER BY id)
        FROM cut WHERE NOT give_back), '[]'::jsonb)) AS f
UNION ALL
SELECT r.id, 'released'
FROM released r
WHERE (SELECT count(*) FROM wake) >= 0
