-- Live worker processes.
SELECT id, host, pid, queues, started_on, heartbeat_on, now() - heartbeat_on AS silent_for
FROM queue.worker ORDER BY started_on
