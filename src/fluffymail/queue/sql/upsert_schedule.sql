-- Create or replace the schedule (name, key); the first job is sent at the next tick.
INSERT INTO queue.schedule (name, key, cron, tz, data, options, last_tick, next_tick)
VALUES (%(name)s, %(key)s, %(cron)s, %(tz)s, %(data)s::jsonb, %(options)s::jsonb, %(last_tick)s, %(next_tick)s)
ON CONFLICT (name, key) DO UPDATE SET cron = EXCLUDED.cron, tz = EXCLUDED.tz, data = EXCLUDED.data,
    options = EXCLUDED.options, last_tick = EXCLUDED.last_tick, next_tick = EXCLUDED.next_tick,
    updated_on = now()
RETURNING name
