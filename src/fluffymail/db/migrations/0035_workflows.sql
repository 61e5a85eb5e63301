-- Durable workflows (issue 17): a workflow run is a job of the workflow's queue; its steps are
-- rows here. A step row is written once when a step completes (its memoized result), or when
-- the run suspends on it: sleeping until wake_at, waiting for an event matching `match`, or
-- waiting for `pending` child runs. Lock order everywhere: step rows, then the run's job.
CREATE TABLE queue.workflow_step (
    run_id bigint NOT NULL REFERENCES queue.job (id) ON DELETE CASCADE,
    name text NOT NULL,
    seq integer NOT NULL,                  -- order the code asked for it (-1: a cancel_on rule)
    kind text NOT NULL,                    -- run, sleep, wait, invoke, cancel_on
    state text NOT NULL,                   -- completed, failed, error, sleeping, waiting, ready, cancelled
    attempts integer NOT NULL DEFAULT 0,
    started_on timestamptz,
    finished_on timestamptz,
    wake_at timestamptz,                   -- sleep: when it ends; wait: its timeout
    event text,
    match jsonb,
    children bigint[],                     -- invoke: the child runs (job ids), in order
    pending integer,                       -- invoke: children not finished yet
    output jsonb,
    error jsonb,
    PRIMARY KEY (run_id, name)
);

CREATE INDEX workflow_step_waiting ON queue.workflow_step (event) WHERE state = 'waiting';

-- Wake suspended runs now (a step they wait on is done).
CREATE FUNCTION queue.wf_wake(p_ids bigint[]) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    WITH woken AS (
        UPDATE queue.job SET start_after = now()
        WHERE id = ANY(p_ids) AND state IN ('created', 'retry') AND start_after > now()
        RETURNING name
    ), notified AS (
        SELECT pg_notify('fluffymail_queue', name) FROM (SELECT DISTINCT name FROM woken) n
    )
    SELECT count(*) INTO v_count FROM notified;
    RETURN v_count;
END
$$;

-- Suspend a running run on step p_name (inserted unless it exists): its job goes back to
-- 'retry' until the step's wake_at (no timeout: a century on), or at once if the step is done
-- already (an event or the last child came while the run was resuming). False: stale lease.
CREATE FUNCTION queue.wf_suspend(p_id bigint, p_attempt integer, p_name text, p_seq integer,
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
        UPDATE queue.job j SET state = 'retry', start_after = v_start, heartbeat_on = NULL
        WHERE j.id = p_id AND j.attempt = p_attempt AND j.state = 'active'
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

-- One child of p_parent's step p_step finished (completed, failed for good or cancelled): the
-- last one makes the step ready and wakes the parent.
CREATE FUNCTION queue.wf_child_done(p_parent bigint, p_step text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    v_pending integer;
BEGIN
    UPDATE queue.workflow_step
    SET pending = pending - 1,
        state = CASE WHEN pending <= 1 THEN 'ready' ELSE state END,
        finished_on = CASE WHEN pending <= 1 THEN now() END
    WHERE run_id = p_parent AND name = p_step AND state = 'waiting'
    RETURNING pending INTO v_pending;
    IF v_pending = 0 THEN
        PERFORM queue.wf_wake(ARRAY[p_parent]);
    END IF;
END
$$;

-- Complete a child run's attempt (the parent learns at once, in this transaction).
CREATE FUNCTION queue.wf_complete(p_id bigint, p_attempt integer, p_output jsonb) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    v_parent jsonb;
BEGIN
    UPDATE queue.job j SET state = 'completed', completed_on = now(),
        keep_until = now() + make_interval(secs => j.retention_seconds), output = p_output
    WHERE j.id = p_id AND j.attempt = p_attempt AND j.state = 'active'
    RETURNING j.data -> 'parent' INTO v_parent;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF jsonb_typeof(v_parent) = 'array' THEN
        PERFORM queue.wf_child_done((v_parent ->> 0)::bigint, v_parent ->> 1);
    END IF;
    RETURN true;
END
$$;

-- Fail a run's attempt like fail_jobs (retry, or fail and dead-letter); p_final: no retry left
-- (a version refusal). A child failed for good tells its parent.
CREATE FUNCTION queue.wf_fail(p_id bigint, p_attempt integer, p_error jsonb, p_final boolean)
    RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    v_state queue.job_state;
    v_parent jsonb;
BEGIN
    IF p_final THEN
        UPDATE queue.job SET retry_count = greatest(retry_count, retry_limit)
        WHERE id = p_id AND attempt = p_attempt AND state = 'active';
    END IF;
    SELECT f.state INTO v_state FROM queue.fail_jobs(ARRAY[p_id], ARRAY[p_attempt], jsonb_build_array(p_error)) f;
    IF v_state = 'failed' THEN
        SELECT data -> 'parent' INTO v_parent FROM queue.job WHERE id = p_id;
        IF jsonb_typeof(v_parent) = 'array' THEN
            PERFORM queue.wf_child_done((v_parent ->> 0)::bigint, v_parent ->> 1);
        END IF;
    END IF;
    RETURN v_state::text;
END
$$;

-- Cancel runs and, recursively, their children; their open waits close. A cancelled child whose
-- parent lives on counts as finished for the parent's fan-in. Returns the ids cancelled.
CREATE FUNCTION queue.wf_cancel(p_ids bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql AS $$
DECLARE
    v_tree bigint[];
    v_done bigint[];
    v_parent record;
BEGIN
    WITH RECURSIVE tree (id) AS (
        SELECT unnest(p_ids)
        UNION
        SELECT unnest(s.children) FROM queue.workflow_step s JOIN tree t ON s.run_id = t.id
        WHERE s.children IS NOT NULL
    )
    SELECT array_agg(id ORDER BY id) INTO v_tree FROM tree;
    PERFORM 1 FROM queue.workflow_step
    WHERE run_id = ANY(v_tree) AND state IN ('waiting', 'sleeping', 'ready')
    ORDER BY run_id, name FOR UPDATE;
    WITH cancelled AS (
        UPDATE queue.job j SET state = 'cancelled', completed_on = now(),
            keep_until = now() + make_interval(secs => j.retention_seconds)
        FROM (SELECT id, state AS old_state FROM queue.job
              WHERE id = ANY(v_tree) AND state <= 'active' ORDER BY id FOR UPDATE) old
        WHERE j.id = old.id
        RETURNING j.id, j.name, j.attempt, j.worker, j.started_on, old.old_state
    ), history AS (
        INSERT INTO queue.job_attempt (job_id, attempt, name, worker, started_on, outcome)
        SELECT id, attempt, name, worker, started_on, 'cancelled' FROM cancelled WHERE old_state = 'active'
        ON CONFLICT DO NOTHING
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_done FROM cancelled;
    UPDATE queue.workflow_step SET state = 'cancelled', finished_on = now()
    WHERE run_id = ANY(v_done) AND state IN ('waiting', 'sleeping', 'ready');
    FOR v_parent IN
        SELECT (data -> 'parent' ->> 0)::bigint AS id, data -> 'parent' ->> 1 AS step
        FROM queue.job WHERE id = ANY(v_done) AND jsonb_typeof(data -> 'parent') = 'array'
          AND NOT (data -> 'parent' ->> 0)::bigint = ANY(v_tree)
    LOOP
        PERFORM queue.wf_child_done(v_parent.id, v_parent.step);
    END LOOP;
    RETURN v_done;
END
$$;

-- Deliver an event: every waiting step whose `match` is contained in p_data completes with it
-- (each once: a step row is taken by one sender), waking its run; cancel_on rules cancel theirs.
CREATE FUNCTION queue.wf_send_event(p_event text, p_data jsonb) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    v_wake bigint[];
    v_cancel bigint[];
BEGIN
    WITH locked AS (
        SELECT run_id, name FROM queue.workflow_step
        WHERE state = 'waiting' AND event = p_event AND match <@ p_data
        ORDER BY run_id, name FOR UPDATE
    ), fired AS (
        UPDATE queue.workflow_step s SET state = 'completed', output = p_data, finished_on = now()
        FROM locked l WHERE s.run_id = l.run_id AND s.name = l.name
        RETURNING s.run_id, s.kind
    )
    SELECT array_agg(run_id ORDER BY run_id) FILTER (WHERE kind = 'wait'),
           array_agg(run_id ORDER BY run_id) FILTER (WHERE kind = 'cancel_on')
    INTO v_wake, v_cancel FROM fired;
    IF v_wake IS NOT NULL THEN
        PERFORM queue.wf_wake(v_wake);
    END IF;
    IF v_cancel IS NOT NULL THEN
        PERFORM queue.wf_cancel(v_cancel);
    END IF;
    RETURN coalesce(cardinality(v_wake), 0) + coalesce(cardinality(v_cancel), 0);
END
$$;
