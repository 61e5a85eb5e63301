-- Schedules, all or only those due now (`due`), with the database's clock.
SELECT name, key, cron, tz, data, options, last_tick, next_tick, created_on, now() AS db_now
FROM queue.schedule
WHERE NOT %(due)s::boolean OR next_tick <= now()
ORDER BY next_tick, name, key
LIMIT %(limit)s
