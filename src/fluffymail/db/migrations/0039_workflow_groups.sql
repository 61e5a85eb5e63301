-- Workflow groups: a step opens a group, later steps send ordinary jobs into it (in their own
-- transactions), and a join waits, holding no slot, until every job of the group has finished.
-- A child that fails for good, by its handler or by the rescuer (expiry, a lost worker), now
-- counts in its parent's fan-in from fail_jobs itself.

-- One child of p_parent's step p_step finished (completed, failed for good or cancelled). An
-- open group only counts it; a closed one (waiting) is ready when its last child finishes.
CREATE OR REPLACE FUNCTION queue.wf_child_done(p_parent bigint, p_step text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
BEGIN
    UPDATE queue.workflow_step
    SET pending = pending - 1,
        state = CASE WHEN state = 'waiting' AND pending <= 1 THEN 'ready' ELSE state END,
        finished_on = CASE WHEN state = 'waiting' AND pending <= 1 THEN now() ELSE finished_on END
    WHERE run_id = p_parent AND name = p_step AND state IN ('waiting', 'open')
    RETURNING state INTO v_state;
    IF v_state = 'ready' THEN
        PERFORM queue.wf_wake(ARRAY[p_parent]);
    END IF;
END
$$;

-- Open group p_name of run p_id (its attempt p_attempt must hold the job); false: stale lease.
CREATE FUNCTION queue.wf_open_group(p_id bigint, p_attempt integer, p_name text, p_seq integer)
    RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM queue.job WHERE id = p_id AND attempt = p_attempt AND state = 'active';
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO queue.workflow_step (run_id, name, seq, kind, state, started_on, children, pending)
    VALUES (p_id, p_name, p_seq, 'group', 'open', now(), '{}', 0)
    ON CONFLICT (run_id, name) DO NOTHING;
    RETURN true;
END
$$;

-- Count jobs p_ids (inserted in this transaction) in open group p_step of run p_parent.
CREATE FUNCTION queue.wf_add_children(p_parent bigint, p_step text, p_ids bigint[]) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queue.workflow_step
    SET children = children || p_ids, pending = pending + cardinality(p_ids)
    WHERE run_id = p_parent AND name = p_step AND kind = 'group' AND state = 'open';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % has no open group %: jobs are sent into a group between its '
            'step.group() and its step.join()', p_parent, p_step
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;

-- Close open group p_name of run p_id: 'ready' (every child finished), 'waiting' (the last
-- child will wake the run), NULL (not open, or the attempt lost its job).
CREATE FUNCTION queue.wf_close_group(p_id bigint, p_attempt integer, p_name text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
BEGIN
    PERFORM 1 FROM queue.job WHERE id = p_id AND attempt = p_attempt AND state = 'active';
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE queue.workflow_step
    SET state = CASE WHEN pending <= 0 THEN 'ready' ELSE 'waiting' END,
        finished_on = CASE WHEN pending <= 0 THEN now() END
    WHERE run_id = p_id AND name = p_name AND state = 'open'
    RETURNING state INTO v_state;
    RETURN v_state;
END
$$;

-- fail_jobs as in 0001, and a job failed for good that is a child of a run tells its parent
-- (so a child lost to expiry or a dead worker cannot leave its parent waiting for ever).
CREATE OR REPLACE FUNCTION queue.fail_jobs(p_ids bigint[], p_attempts integer[], p_errors jsonb)
RETURNS TABLE (id bigint, name text, state queue.job_state, retry_count integer, dead_letter_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY WITH failing AS (
        SELECT j.id, p_errors -> (f.n - 1)::integer AS error, j.retry_count < j.retry_limit AS will_retry
        FROM unnest(p_ids, p_attempts) WITH ORDINALITY AS f (id, attempt, n)
        JOIN queue.job j ON j.id = f.id AND j.attempt = f.attempt AND j.state = 'active'
        FOR UPDATE OF j
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
        FROM failing f WHERE j.id = f.id
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

-- wf_fail as in 0035, without its own call to wf_child_done (fail_jobs makes it now).
CREATE OR REPLACE FUNCTION queue.wf_fail(p_id bigint, p_attempt integer, p_error jsonb, p_final boolean)
    RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    v_state queue.job_state;
BEGIN
    IF p_final THEN
        UPDATE queue.job SET retry_count = greatest(retry_count, retry_limit)
        WHERE id = p_id AND attempt = p_attempt AND state = 'active';
    END IF;
    SELECT f.state INTO v_state FROM queue.fail_jobs(ARRAY[p_id], ARRAY[p_attempt], jsonb_build_array(p_error)) f;
    RETURN v_state::text;
END
$$;
