-- Run by every process every rescue_interval: record that this process is alive (its worker
-- row), then give back the running attempts that nobody will finish:
--   * of a dead worker: its row was not renewed for %(dead_seconds)s and the session advisory lock
--     it holds while it lives (lock_worker.sql) is gone; not in the first %(dead_seconds)s after a
--     server restart, when the live workers have not taken their locks again yet;
--   * of this process, never started and not held: claimed by a statement whose reply was lost
--     (the connection broke after it committed). Only attempts claimed by the time the last
--     claim statement whose reply the queue's workers took started (`synced`, per queue; see
--     Worker.synced), so never one whose reply is still on its way;
--   * whose own heartbeat lapsed or that ran past their expiry (the backstop);
-- but never an attempt the rescuing process still holds (running, or finished and not yet
-- acknowledged, e.g. after a stall; it reports those itself). An attempt whose handler never
-- started (`running` false: claimed ahead) goes back to the queue without spending a retry and
-- is recorded as 'not started', at most 3 times per job (a worker can die between starting a
-- handler and recording it); the others fail, and retry while retries remain.
WITH beat AS (
    INSERT INTO queue.worker (id, host, pid, queues, locked)
    VALUES (%(worker)s, %(host)s, %(pid)s, %(queues)s, %(locked)s)
    ON CONFLICT (id) DO UPDATE
        SET queues = EXCLUDED.queues, locked = EXCLUDED.locked, heartbeat_on = now()
), dead AS (
    SELECT w.id FROM queue.worker w
    WHERE %(rescue)s AND w.locked
      AND w.heartbeat_on < now() - make_interval(secs => %(dead_seconds)s)
      AND pg_postmaster_start_time() < now() - make_interval(secs => %(dead_seconds)s)
      AND NOT EXISTS (
          SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = (hashtext('fluffymail.queue.worker')::bigint & 4294967295)::oid
            AND l.objid = (hashtext(w.id)::bigint & 4294967295)::oid)
), synced AS (
    SELECT s.name, s.at
    FROM unnest(%(synced_names)s::text[], %(synced_at)s::timestamptz[]) AS s (name, at)
), stale AS (
    SELECT j.id, j.attempt, j.worker,
           CASE WHEN j.started_on < now() - make_interval(secs => j.expire_seconds) THEN 'expired'
                WHEN j.worker IN (SELECT id FROM dead) THEN 'dead'
                WHEN j.worker = %(worker)s AND NOT j.running AND NOT j.id = ANY(%(held)s::bigint[])
                     AND j.started_on <= (SELECT s.at FROM synced s WHERE s.name = j.name)
                    THEN 'orphan'
                ELSE 'heartbeat' END AS reason,
           CASE WHEN NOT j.running AND (SELECT count(*) FROM queue.job_attempt a
                                        WHERE a.job_id = j.id AND a.outcome = 'not started') < 3
                THEN queue.parking_state(j) END AS parking   -- NULL: it fails instead
    FROM queue.job j
    WHERE %(rescue)s AND j.state = 'active'
      AND (j.started_on < now() - make_interval(secs => j.expire_seconds)
           OR j.worker IN (SELECT id FROM dead)
           OR (j.worker = %(worker)s AND NOT j.running AND NOT j.id = ANY(%(held)s::bigint[])
               AND j.started_on <= (SELECT s.at FROM synced s WHERE s.name = j.name))
           OR (coalesce(j.heartbeat_on, j.started_on) < now() - make_interval(secs => j.heartbeat_seconds)
               AND NOT (j.worker IS NOT DISTINCT FROM %(worker)s AND j.id = ANY(%(held)s::bigint[]))))
    ORDER BY j.id
    LIMIT %(limit)s
    FOR UPDATE OF j SKIP LOCKED
), released AS (
    UPDATE queue.job j SET state = s.parking, start_after = now(), heartbeat_on = NULL
    FROM stale s
    WHERE j.id = s.id AND s.parking IS NOT NULL
    RETURNING j.id, j.name, j.state, j.attempt, j.worker, j.started_on, s.reason
), history AS (
    INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome, error)
    SELECT r.id, r.attempt, r.name, r.worker, r.started_on, 'not started',
           jsonb_build_object('type', 'NotStarted', 'message',
                              CASE r.reason
                                  WHEN 'orphan' THEN 'the reply to the claim by worker '
                                                     || coalesce(r.worker, '?') || ' was lost'
                                  ELSE 'claimed by worker ' || coalesce(r.worker, '?')
                                       || ', which is gone' END)
    FROM released r
    ON CONFLICT DO NOTHING
), wake AS (
    SELECT pg_notify('fluffymail_queue', name) FROM (SELECT DISTINCT name FROM released) n
)
SELECT f.id, f.name, f.state, f.retry_count, f.dead_letter_id
FROM queue.fail_jobs(
    ARRAY(SELECT id FROM stale WHERE parking IS NULL ORDER BY id),
    ARRAY(SELECT attempt FROM stale WHERE parking IS NULL ORDER BY id),
    coalesce((SELECT jsonb_agg(jsonb_build_object(
        'type', CASE reason WHEN 'expired' THEN 'JobExpired' ELSE 'WorkerLost' END,
        'message', CASE reason WHEN 'expired' THEN 'job ran past its expiry'
                   WHEN 'dead' THEN 'worker ' || coalesce(worker, '?') || ' is gone'
                   WHEN 'orphan' THEN 'the reply to the claim by worker ' || coalesce(worker, '?')
                                      || ' was lost'
                   ELSE 'no heartbeat from worker ' || coalesce(worker, '?') END) ORDER BY id)
        FROM stale WHERE parking IS NULL), '[]'::jsonb)) AS f
UNION ALL
SELECT r.id, r.name, r.state, NULL, NULL
FROM released r
WHERE (SELECT count(*) FROM wake) >= 0
