-- fetch_jobs for `singleton` and `stately` queues: at most one job per singleton key runs at a
-- time, so take only the first queued job of each key that has nothing active.
WITH done AS (
    SELECT queue.complete_jobs(%(done_ids)s::bigint[], %(done_attempts)s::integer[], %(done_outputs)s::jsonb) AS id
), firsts AS (
    SELECT DISTINCT ON (coalesce(j.singleton_key, '')) j.id, j.priority
    FROM queue.job j
    WHERE j.name = %(name)s AND j.state < 'active' AND j.start_after <= now()
      AND NOT EXISTS (SELECT 1 FROM queue.queue q WHERE q.name = %(name)s AND q.paused)
      AND NOT EXISTS (
          SELECT 1 FROM queue.job a
          WHERE a.name = j.name AND a.state = 'active'
            AND coalesce(a.singleton_key, '') = coalesce(j.singleton_key, ''))
    ORDER BY coalesce(j.singleton_key, ''), j.priority DESC, j.id
), next AS (
    SELECT j.id FROM queue.job j
    WHERE j.id IN (SELECT id FROM firsts) AND j.state < 'active'
    ORDER BY j.priority DESC, j.id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE queue.job j
    SET state = 'active', attempt = j.attempt + 1, started_on = now(), heartbeat_on = NULL,
        worker = %(worker)s
    FROM next WHERE j.id = next.id
    RETURNING j.*
)
SELECT c.id, c.name, c.data, c.priority, c.attempt, c.retry_count, c.retry_limit,
       c.expire_seconds, c.heartbeat_seconds, c.singleton_key, c.group_key, c.created_on,
       c.started_on, (SELECT array_agg(id) FROM done) AS acked
FROM claimed c
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT array_agg(id) FROM done)
WHERE NOT EXISTS (SELECT 1 FROM claimed)
