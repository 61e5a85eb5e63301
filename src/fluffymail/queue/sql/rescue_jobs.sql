-- Fail running attempts whose worker stopped heart-beating or that ran past their expiry,
-- but never a lapsed heartbeat of an attempt the rescuing worker itself still holds (running,
-- or finished and not yet acknowledged, e.g. after a stall): it reports those itself.
WITH stale AS (
    SELECT id, attempt,
           CASE WHEN started_on < now() - make_interval(secs => expire_seconds)
                THEN 'expired' ELSE 'heartbeat' END AS reason,
           worker
    FROM queue.job
    WHERE state = 'active'
      AND (started_on < now() - make_interval(secs => expire_seconds)
           OR (coalesce(heartbeat_on, started_on) < now() - make_interval(secs => heartbeat_seconds)
               AND NOT (worker IS NOT DISTINCT FROM %(worker)s AND id = ANY(%(held)s::bigint[]))))
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
SELECT f.id, f.name, f.state, f.retry_count, f.dead_letter_id
FROM queue.fail_jobs(
    ARRAY(SELECT id FROM stale ORDER BY id),
    ARRAY(SELECT attempt FROM stale ORDER BY id),
    coalesce((SELECT jsonb_agg(jsonb_build_object(
        'type', CASE reason WHEN 'expired' THEN 'JobExpired' ELSE 'WorkerLost' END,
        'message', CASE reason WHEN 'expired' THEN 'job ran past its expiry'
                   ELSE 'no heartbeat from worker ' || coalesce(worker, '?') END) ORDER BY id)
        FROM stale), '[]'::jsonb)) AS f
