-- Acknowledge finished attempts and claim the next jobs of a queue, in one round trip.
-- Written so that PostgreSQL keeps one cached (generic) plan instead of planning it anew on every
-- call: the limit is applied outside `next` (which has a constant cap, read lazily, so only
-- %(limit)s rows are ever locked) and both updates find their rows by primary key (= ANY).
WITH done AS (
    UPDATE queue.job j
    SET state = 'completed', completed_on = now(), keep_until = now() + make_interval(secs => j.retention_seconds),
        output = nullif(%(done_outputs)s::jsonb -> (d.n - 1)::integer, 'null'::jsonb)
    FROM unnest(%(done_ids)s::bigint[], %(done_attempts)s::integer[]) WITH ORDINALITY AS d (id, attempt, n)
    WHERE j.id = ANY(%(done_ids)s::bigint[]) AND j.id = d.id AND j.attempt = d.attempt
      AND j.state = 'active'
    RETURNING j.id
), began AS (
    -- Attempts whose handlers started since the last round trip (claims leave `running` false).
    UPDATE queue.job j SET running = true
    FROM unnest(%(began_ids)s::bigint[], %(began_attempts)s::integer[]) AS b (id, attempt)
    WHERE j.id = ANY(%(began_ids)s::bigint[]) AND j.id = b.id AND j.attempt = b.attempt
      AND j.state = 'active'
), next AS (
    SELECT j.id FROM queue.job j
    WHERE j.name = %(name)s AND j.state < 'active' AND j.start_after <= now()
      AND NOT EXISTS (SELECT 1 FROM queue.queue q WHERE q.name = %(name)s
                      AND (q.paused OR q.paused_until > now()))
    ORDER BY j.priority DESC, j.id
    LIMIT 1000 -- = store.MAX_CLAIM
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE queue.job j
    SET state = 'active', attempt = j.attempt + 1, started_on = now(), heartbeat_on = NULL,
        worker = %(worker)s, running = %(running)s
    WHERE j.id = ANY(ARRAY(SELECT id FROM next LIMIT %(limit)s))
    RETURNING j.id, j.data, j.priority, j.attempt, j.retry_count, j.retry_limit, j.expire_seconds,
        j.heartbeat_seconds, j.singleton_key, j.group_key, j.created_on, j.started_on
)
-- The claimed jobs in claim order, then one row carrying the ids whose acknowledgement was
-- accepted and when the statement started (its claims' started_on; see Worker.synced).
(SELECT id, data::text, priority, attempt, retry_count, retry_limit, expire_seconds, heartbeat_seconds,
        singleton_key, group_key, created_on, started_on, NULL::bigint[] AS acked
 FROM claimed ORDER BY priority DESC, id)
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now(), array_agg(id) FROM done
