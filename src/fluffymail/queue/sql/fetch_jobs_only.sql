-- fetch_jobs_policy for a worker that takes only the jobs it is given (`work(..., only=[id])`:
-- a command running one job here, such as `fluffymail import` its sync's run). A job of these
-- still 'created' is claimed whatever its start (the caller sent it with a later start so
-- that other workers leave it); one waiting to retry (a suspended run) only once it is due.
-- At most one job per singleton key runs at a time, as for every policy queue.
WITH done AS (
    UPDATE queue.job j
    SET state = 'completed', completed_on = now(), keep_until = now() + make_interval(secs => j.retention_seconds),
        output = nullif(%(done_outputs)s::jsonb -> (d.n - 1)::integer, 'null'::jsonb)
    FROM unnest(%(done_ids)s::bigint[], %(done_attempts)s::integer[]) WITH ORDINALITY AS d (id, attempt, n)
    WHERE j.id = d.id AND j.attempt = d.attempt AND j.state = 'active'
    RETURNING j.id
), began AS (
    -- Attempts whose handlers started since the last round trip (claims leave `running` false).
    UPDATE queue.job j SET running = true
    FROM unnest(%(began_ids)s::bigint[], %(began_attempts)s::integer[]) AS b (id, attempt)
    WHERE j.id = ANY(%(began_ids)s::bigint[]) AND j.id = b.id AND j.attempt = b.attempt
      AND j.state = 'active'
), firsts AS (
    SELECT DISTINCT ON (coalesce(j.singleton_key, '')) j.id, j.priority
    FROM queue.job j
    WHERE j.id = ANY(%(only)s::bigint[]) AND j.name = %(name)s
      AND (j.state = 'created' OR (j.state = 'retry' AND j.start_after <= now()))
      AND NOT EXISTS (SELECT 1 FROM queue.queue q WHERE q.name = %(name)s
                      AND (q.paused OR q.paused_until > now()))
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
        worker = %(worker)s, running = %(running)s
    FROM next WHERE j.id = next.id
    RETURNING j.id, j.data, j.priority, j.attempt, j.retry_count, j.retry_limit, j.expire_seconds,
        j.heartbeat_seconds, j.singleton_key, j.group_key, j.created_on, j.started_on
)
-- The claimed jobs, then one row carrying the ids whose acknowledgement was
-- accepted and when the statement started (its claims' started_on; see Worker.synced).
SELECT id, data::text, priority, attempt, retry_count, retry_limit, expire_seconds, heartbeat_seconds,
       singleton_key, group_key, created_on, started_on, NULL::bigint[] AS acked
FROM claimed
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now(), array_agg(id) FROM done
