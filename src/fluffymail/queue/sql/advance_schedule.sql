-- The exactly-once gate: move a schedule past `tick` only if nobody has; the caller sends the
-- tick's job in the same transaction when (and only when) a row comes back.
UPDATE queue.schedule SET last_tick = %(tick)s, next_tick = %(next_tick)s
WHERE name = %(name)s AND key = %(key)s AND (last_tick IS NULL OR last_tick < %(tick)s)
RETURNING data, options
