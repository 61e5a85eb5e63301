-- Where some jobs stand now (state and current attempt): explains an acknowledgement the
-- database did not take (a stale lease, or one already recorded whose reply was lost).
SELECT id, attempt, state::text FROM queue.job WHERE id = ANY(%(ids)s::bigint[])
