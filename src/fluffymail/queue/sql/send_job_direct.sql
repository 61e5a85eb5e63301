-- Send one job to an ungrouped queue whose defaults the client already resolved (its queue
-- cache): one plain INSERT, waking listeners (on commit) from RETURNING when it is due now.
-- Markedly cheaper than insert_jobs.sql, which resolves the defaults itself (BENCHMARKS.md).
INSERT INTO queue.job (name, data, priority, start_after, singleton_key, singleton_on, group_key,
    policy, retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds,
    heartbeat_seconds, retention_seconds, dead_letter)
VALUES (%(name)s, %(data)s::jsonb, %(priority)s,
    coalesce(%(start_at)s::timestamptz, now() + make_interval(secs => %(start_in)s::float8)),
    %(singleton_key)s,
    CASE WHEN %(singleton_seconds)s::integer > 0 THEN
        to_timestamp(floor(extract(epoch FROM now()) / %(singleton_seconds)s::integer) * %(singleton_seconds)s::integer)
    END,
    %(group_key)s, %(policy)s, %(retry_limit)s, %(retry_delay)s, %(retry_backoff)s,
    %(retry_delay_max)s, %(expire_seconds)s, %(heartbeat_seconds)s, %(retention_seconds)s,
    %(dead_letter)s)
ON CONFLICT DO NOTHING
RETURNING id, CASE WHEN start_after <= now() THEN pg_notify('fluffymail_queue', name) END AS woken
