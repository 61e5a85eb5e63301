-- A job that goes back to the queue must keep its queue's rule for its key: a stately queue
-- allows one job per key in each of `created` and `retry`, a standard queue with singleton keys
-- one queued job per key. Before, a retry, snooze, workflow park or give-back that broke the
-- rule raised a unique violation: the move was never recorded, the job stayed active, and every
-- rescue pass that met it failed whole (seen at 1M messages: an analysis that deadlocked
-- twice; a second import of a connection whose first run was parked for its extraction).
--   queue.twin(j, state)     the job of j's key that the rule forbids j to join in `state`
--   queue.parking_state(j)   where j waits without spending a retry: `retry`, else `created`,
--                            else NULL (nowhere: it stays active, and the rescuer fails it)
--   fail_jobs                a retry that has a twin fails for good instead, naming the twin
--                            that does the work (`not_retried`), as pg-boss settled (#493)
-- Snoozes, workflow parks (wf_suspend, below) and the give-backs of shutdown, the rescuer and
-- drain runs (queue/sql) wait in queue.parking_state.

CREATE FUNCTION queue.twin(j queue.job, in_state queue.job_state) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT id FROM (
        SELECT q.id FROM queue.job q  -- by job_policy_stately
        WHERE j.policy = 'stately' AND q.policy = 'stately' AND q.state <= 'active'
          AND q.state = in_state AND q.name = j.name
          AND coalesce(q.singleton_key, '') = coalesce(j.singleton_key, '') AND q.id <> j.id
        UNION ALL
        SELECT q.id FROM queue.job q  -- by job_singleton_queued
        WHERE j.policy = 'standard' AND j.singleton_key IS NOT NULL AND j.singleton_on IS NULL
          AND q.policy = 'standard' AND q.state < 'active' AND q.singleton_on IS NULL
          AND q.name = j.name AND q.singleton_key = j.singleton_key AND q.id <> j.id
    ) twins
    LIMIT 1
$$;

CREATE FUNCTION queue.parking_state(j queue.job) RETURNS queue.job_state
LANGUAGE plpgsql STABLE AS $$  -- plpgsql: its body is not checked before queue.twin exists
BEGIN
    IF queue.twin(j, 'retry') IS NULL THEN
        RETURN 'retry';
    ELSIF queue.twin(j, 'created') IS NULL THEN
        RETURN 'created';
    END IF;
    RETURN NULL;
END
$$;

-- fail_jobs as in 0039, with the twin rule.
CREATE OR REPLACE FUNCTION queue.fail_jobs(p_ids bigint[], p_attempts integer[], p_errors jsonb)
RETURNS TABLE (id bigint, name text, state queue.job_state, retry_count integer, dead_letter_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY WITH failing AS (
        SELECT j.id, p_errors -> (f.n - 1)::integer AS error, j.retry_count < j.retry_limit AS may_retry,
               queue.twin(j, 'retry') AS covered_by
        FROM unnest(p_ids, p_attempts) WITH ORDINALITY AS f (id, attempt, n)
        JOIN queue.job j ON j.id = f.id AND j.attempt = f.attempt AND j.state = 'active'
        FOR UPDATE OF j
    ), decided AS (
        SELECT f.id, f.may_retry AND f.covered_by IS NULL AS will_retry,
               CASE WHEN f.may_retry AND f.covered_by IS NOT NULL AND jsonb_typeof(f.error) = 'object'
                    THEN f.error || jsonb_build_object('not_retried', format(
                        'job %s, queued with the same key, does this work', f.covered_by))
                    ELSE f.error END AS error
        FROM failing f
    ), updated AS (
        UPDATE queue.job j SET
            state = CASE WHEN f.will_retry THEN 'retry' ELSE 'failed' END::queue.job_state,
            retry_count = j.retry_count + 1,
            start_after = CASE WHEN f.will_retry
                THEN now() + queue.retry_delay(j.retry_delay, j.retry_backoff, j.retry_delay_max, j.retry_count)
                ELSE j.start_after END,
            completed_on = CASE WHEN f.will_retry THEN NULL ELSE now() END,
            keep_until = CASE WHEN f.will_retry THEN NULL ELSE now() + make_interval(secs => j.retention_seconds) END,
            output = f.error
        FROM decided f WHERE j.id = f.id
        RETURNING j.*
    ), history AS (
        INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome, error)
        SELECT u.id, u.attempt, u.name, u.worker, u.started_on,
               CASE u.output->>'type' WHEN 'JobExpired' THEN 'expired' WHEN 'WorkerLost' THEN 'lost' ELSE 'failed' END,
               u.output
        FROM updated u
        ON CONFLICT DO NOTHING
    ), dead AS (
        INSERT INTO queue.job (name, data, priority, policy, singleton_key, group_key, retry_limit,
            retry_delay, retry_backoff, retry_delay_max, expire_seconds, heartbeat_seconds,
            retention_seconds, dead_letter, source_name, source_id, output)
        SELECT q.name,
            CASE WHEN jsonb_typeof(u.data) = 'object' THEN u.data - 'parent' ELSE u.data END, u.priority, q.policy, NULL, u.group_key, q.retry_limit,
            q.retry_delay, q.retry_backoff, q.retry_delay_max, q.expire_seconds, q.heartbeat_seconds,
            q.retention_seconds, q.dead_letter, u.name, u.id, u.output
        FROM updated u JOIN queue.queue q ON q.name = u.dead_letter
        WHERE u.state = 'failed'
        RETURNING queue.job.id, queue.job.source_id
    )
    SELECT u.id, u.name, u.state, u.retry_count, d.id
    FROM updated u LEFT JOIN dead d ON d.source_id = u.id;
    PERFORM queue.wf_child_done((j.data -> 'parent' ->> 0)::bigint, j.data -> 'parent' ->> 1)
    FROM queue.job j
    WHERE j.id = ANY(p_ids) AND j.state = 'failed' AND j.completed_on = now()
      AND jsonb_typeof(j.data -> 'parent') = 'array';
END
$$;

-- wf_suspend as in 0035, parking in queue.parking_state.
CREATE OR REPLACE FUNCTION queue.wf_suspend(p_id bigint, p_attempt integer, p_name text, p_seq integer,
    p_kind text, p_wake_at timestamptz, p_event text, p_match jsonb, p_children bigint[])
    RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_wake timestamptz;
    v_start timestamptz;
    v_name text;
BEGIN
    INSERT INTO queue.workflow_step (run_id, name, seq, kind, state, started_on, wake_at, event,
        match, children, pending)
    VALUES (p_id, p_name, p_seq, p_kind, CASE p_kind WHEN 'sleep' THEN 'sleeping' ELSE 'waiting' END,
        now(), p_wake_at, p_event, p_match, p_children, cardinality(p_children))
    ON CONFLICT (run_id, name) DO NOTHING;
    SELECT state, wake_at INTO v_state, v_wake FROM queue.workflow_step
    WHERE run_id = p_id AND name = p_name FOR UPDATE;
    IF v_state = 'cancelled' THEN
        -- a cancelled run resumed by hand (`jobs resume`): its sleep or wait opens again; its
        -- children stay cancelled, so an invoke is ready (and fails) at once
        v_state := CASE p_kind WHEN 'sleep' THEN 'sleeping' WHEN 'invoke' THEN 'ready' ELSE 'waiting' END;
        UPDATE queue.workflow_step SET state = v_state, finished_on = NULL
        WHERE run_id = p_id AND name = p_name;
    END IF;
    v_start := CASE WHEN v_state IN ('waiting', 'sleeping') THEN coalesce(v_wake, now() + interval '100 years') ELSE now() END;
    WITH moved AS (
        UPDATE queue.job j SET state = queue.parking_state(j), start_after = v_start,
            heartbeat_on = NULL
        WHERE j.id = p_id AND j.attempt = p_attempt AND j.state = 'active'
          AND queue.parking_state(j) IS NOT NULL
        RETURNING j.id, j.name, j.attempt, j.worker, j.started_on
    ), history AS (
        INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome, error)
        SELECT id, attempt, name, worker, started_on, 'suspended', jsonb_build_object('step', p_name)
        FROM moved
        ON CONFLICT DO NOTHING
    )
    SELECT name INTO v_name FROM moved;
    IF v_name IS NULL THEN
        RETURN false;
    END IF;
    IF v_start <= now() THEN
        PERFORM pg_notify('fluffymail_queue', v_name);
    END IF;
    RETURN true;
END
$$;
