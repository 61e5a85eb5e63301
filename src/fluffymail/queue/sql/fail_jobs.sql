-- Fail attempts by lease: retry with backoff while retries remain, else fail and dead-letter.
SELECT id, name, state, retry_count, dead_letter_id
FROM queue.fail_jobs(%(ids)s::bigint[], %(attempts)s::integer[], %(errors)s::jsonb)
