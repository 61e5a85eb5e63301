-- Create a queue or update its defaults (jobs already sent keep theirs).
INSERT INTO queue.queue (name, policy, retry_limit, retry_delay, retry_backoff, retry_delay_max,
    expire_seconds, heartbeat_seconds, retention_seconds, dead_letter, fair, group_concurrency,
    group_rate_limit, group_rate_period)
VALUES (%(name)s, %(policy)s, %(retry_limit)s, %(retry_delay)s, %(retry_backoff)s,
    %(retry_delay_max)s, %(expire_seconds)s, %(heartbeat_seconds)s, %(retention_seconds)s,
    %(dead_letter)s, %(fair)s, %(group_concurrency)s, %(group_rate_limit)s, %(group_rate_period)s)
ON CONFLICT (name) DO UPDATE SET policy = EXCLUDED.policy, retry_limit = EXCLUDED.retry_limit,
    retry_delay = EXCLUDED.retry_delay, retry_backoff = EXCLUDED.retry_backoff,
    retry_delay_max = EXCLUDED.retry_delay_max, expire_seconds = EXCLUDED.expire_seconds,
    heartbeat_seconds = EXCLUDED.heartbeat_seconds, retention_seconds = EXCLUDED.retention_seconds,
    dead_letter = EXCLUDED.dead_letter, fair = EXCLUDED.fair,
    group_concurrency = EXCLUDED.group_concurrency, group_rate_limit = EXCLUDED.group_rate_limit,
    group_rate_period = EXCLUDED.group_rate_period, updated_on = now()
RETURNING name
