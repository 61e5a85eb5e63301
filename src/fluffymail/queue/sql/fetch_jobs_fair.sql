-- fetch_jobs for grouped queues: serve group keys round-robin (least recently served first,
-- then each key's next job), never above a key's concurrency limit or token bucket, and skip
-- paused keys. Locking each key's row serialises claimers per key, so limits hold exactly.
-- It keeps the keys' queued/running counts itself, in one update per key, and marks the
-- statement so the row trigger leaves them alone (see migration 0002).
WITH manual AS (
    SELECT set_config('queue.group_counted_by', statement_timestamp()::text, true)
), done AS (
    UPDATE queue.job j
    SET state = 'completed', completed_on = now(), keep_until = now() + make_interval(secs => j.retention_seconds),
        output = nullif(%(done_outputs)s::jsonb -> (d.n - 1)::integer, 'null'::jsonb)
    FROM unnest(%(done_ids)s::bigint[], %(done_attempts)s::integer[]) WITH ORDINALITY AS d (id, attempt, n)
    WHERE j.id = d.id AND j.attempt = d.attempt AND j.state = 'active'
    RETURNING j.id, j.group_key
), began AS (
    -- Attempts whose handlers started since the last round trip (claims leave `running` false).
    UPDATE queue.job j SET running = true
    FROM unnest(%(began_ids)s::bigint[], %(began_attempts)s::integer[]) AS b (id, attempt)
    WHERE j.id = ANY(%(began_ids)s::bigint[]) AND j.id = b.id AND j.attempt = b.attempt
      AND j.state = 'active'
), cfg AS (
    SELECT group_concurrency, group_rate_limit::float8 AS rate, group_rate_period::float8 AS period
    FROM queue.queue
    WHERE name = %(name)s AND NOT paused AND (paused_until IS NULL OR paused_until <= now())
), groups AS (
    SELECT g.group_key, g.running, g.last_claimed_on, bucket.tokens, cfg.group_concurrency
    FROM queue.job_group g
    CROSS JOIN cfg
    CROSS JOIN LATERAL (
        SELECT CASE WHEN cfg.rate IS NULL THEN NULL
                    ELSE least(cfg.rate, coalesce(g.tokens, cfg.rate)
                         + extract(epoch FROM now() - coalesce(g.refilled_on, now())) * cfg.rate / cfg.period)
               END AS tokens
    ) bucket
    WHERE g.name = %(name)s AND g.queued > 0
      AND (g.paused_until IS NULL OR g.paused_until <= now())
      AND (cfg.group_concurrency IS NULL OR g.running < cfg.group_concurrency)
      AND (bucket.tokens IS NULL OR bucket.tokens >= 1)
    ORDER BY g.last_claimed_on NULLS FIRST, g.group_key
    LIMIT %(groups)s
    FOR UPDATE OF g SKIP LOCKED
), rooms AS (
    SELECT group_key, tokens, row_number() OVER (ORDER BY last_claimed_on NULLS FIRST, group_key) AS turn,
           -- A key can win at most its round-robin share of this batch, so look no further.
           least(ceil(%(limit)s::numeric / count(*) OVER ())::integer,
                 coalesce(group_concurrency - running, %(limit)s),
                 coalesce(floor(tokens)::integer, %(limit)s)) AS room
    FROM groups
), candidates AS (
    SELECT c.id, c.rank, r.turn
    FROM rooms r
    CROSS JOIN LATERAL (
        SELECT j.id, row_number() OVER (ORDER BY j.priority DESC, j.id) AS rank
        FROM queue.job j
        WHERE j.name = %(name)s AND j.group_key = r.group_key AND j.state < 'active'
          AND j.start_after <= now()
        ORDER BY j.priority DESC, j.id
        LIMIT r.room
    ) c
    WHERE r.room > 0
), next AS (
    -- id = ANY(ARRAY(...)) keeps both steps on the primary key whatever the estimates say.
    SELECT j.id FROM queue.job j
    WHERE j.id = ANY(ARRAY(SELECT id FROM candidates ORDER BY rank, turn LIMIT %(limit)s))
      AND j.state < 'active'
    FOR UPDATE OF j SKIP LOCKED
), claimed AS (
    UPDATE queue.job j
    SET state = 'active', attempt = j.attempt + 1, started_on = now(), heartbeat_on = NULL,
        worker = %(worker)s, running = %(running)s
    WHERE j.id = ANY(ARRAY(SELECT id FROM next))
    RETURNING j.id, j.data, j.priority, j.attempt, j.retry_count, j.retry_limit, j.expire_seconds,
        j.heartbeat_seconds, j.singleton_key, j.group_key, j.created_on, j.started_on
), deltas AS (
    SELECT group_key, sum(claimed)::integer AS claimed, sum(finished)::integer AS finished
    FROM (SELECT group_key, 1 AS claimed, 0 AS finished FROM claimed
          UNION ALL SELECT group_key, 0, 1 FROM done WHERE group_key IS NOT NULL) changes
    GROUP BY group_key
), counted AS (
    UPDATE queue.job_group g
    SET queued = g.queued - d.claimed,
        running = g.running + d.claimed - d.finished,
        last_claimed_on = CASE WHEN d.claimed > 0 THEN clock_timestamp() ELSE g.last_claimed_on END,
        tokens = CASE WHEN r.tokens IS NULL OR d.claimed = 0 THEN g.tokens ELSE r.tokens - d.claimed END,
        refilled_on = CASE WHEN r.tokens IS NULL OR d.claimed = 0 THEN g.refilled_on ELSE now() END
    FROM deltas d LEFT JOIN rooms r ON r.group_key = d.group_key
    WHERE g.name = %(name)s AND g.group_key = d.group_key
)
-- The claimed jobs, then one row carrying the ids whose acknowledgement was
-- accepted and when the statement started (its claims' started_on; see Worker.synced).
SELECT id, data::text, priority, attempt, retry_count, retry_limit, expire_seconds, heartbeat_seconds,
       singleton_key, group_key, created_on, started_on, NULL::bigint[] AS acked
FROM claimed
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now(), array_agg(id)
FROM done
WHERE (SELECT count(*) FROM manual) = 1  -- a one-time filter: always evaluated, so always marked
