-- Create a queue or update its defaults (jobs already sent keep theirs).
INSERT INTO queue.queue (name, policy, retry_limit, retry_delay, retry_backoff, retry_delay_max,
    expire_seconds, heartbeat_seconds, retention_seconds, dead_letter)
VALUES (%(name)s, %(policy)s, %(retry_limit)s, %(retry_delay)s, %(retry_backoff)s,
    %(retry_delay_max)s, %(expire_seconds)s, %(heartbeat_seconds)s, %(retention_seconds)s,
    %(dead_letter)s)
ON CONFLICT (name) DO UPDATE SET policy = EXCLUDED.policy, retry_limit = EXCLUDED.retry_limit,
    retry_delay = EXCLUDED.retry_delay, retry_backoff = EXCLUDED.retry_backoff,
    retry_delay_max = EXCLUDED.retry_delay_max, expire_seconds = EXCLUDED.expire_seconds,
    heartbeat_seconds = EXCLUDED.heartbeat_seconds, retention_seconds = EXCLUDED.retention_seconds,
    dead_letter = EXCLUDED.dead_letter, updated_on = now()
RETURNING name, policy, retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds,
    heartbeat_seconds, retention_seconds, dead_letter, paused
