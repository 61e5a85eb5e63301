-- Queue operations: cron schedules, the leader lease, the worker registry, and per-group-key
-- flow control (fair round-robin, concurrency limits, token-bucket rate limits, pauses).

CREATE TABLE queue.schedule (
    name       text NOT NULL REFERENCES queue.queue (name) ON DELETE CASCADE,
    key        text NOT NULL DEFAULT '',
    cron       text NOT NULL,
    tz         text NOT NULL DEFAULT 'UTC',
    data       jsonb,
    options    jsonb NOT NULL DEFAULT '{}',
    last_tick  timestamptz,  -- the newest tick a job was sent for; the gate for exactly-once
    next_tick  timestamptz NOT NULL,
    created_on timestamptz NOT NULL DEFAULT now(),
    updated_on timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, key)
);
CREATE INDEX schedule_due ON queue.schedule (next_tick);

-- Named leases; the holder of 'leader' runs the clock (schedules) and the pruner.
CREATE TABLE queue.lease (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_on timestamptz NOT NULL
);

CREATE TABLE queue.worker (
    id           text PRIMARY KEY,
    host         text NOT NULL,
    pid          integer NOT NULL,
    queues       text[] NOT NULL DEFAULT '{}',
    started_on   timestamptz NOT NULL DEFAULT now(),
    heartbeat_on timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE queue.queue
    ADD COLUMN fair boolean NOT NULL DEFAULT false,
    ADD COLUMN group_concurrency integer CHECK (group_concurrency > 0),
    ADD COLUMN group_rate_limit integer CHECK (group_rate_limit > 0),
    ADD COLUMN group_rate_period integer NOT NULL DEFAULT 60 CHECK (group_rate_period > 0),
    ADD COLUMN grouped boolean GENERATED ALWAYS AS
        (fair OR group_concurrency IS NOT NULL OR group_rate_limit IS NOT NULL) STORED;

-- One row per (queue, group key) of a grouped queue: counts kept by the triggers below, the
-- token bucket, a pause, and when the key was last served (for round-robin fairness).
CREATE TABLE queue.job_group (
    name            text NOT NULL,
    group_key       text NOT NULL,
    queued          integer NOT NULL DEFAULT 0,
    running         integer NOT NULL DEFAULT 0,
    tokens          double precision,
    refilled_on     timestamptz,
    paused_until    timestamptz,
    last_claimed_on timestamptz,
    PRIMARY KEY (name, group_key)
);
CREATE INDEX job_group_ready ON queue.job_group (name, last_claimed_on NULLS FIRST) WHERE queued > 0;
CREATE INDEX job_group_fetch ON queue.job (name, group_key, priority DESC, id)
    WHERE state < 'active' AND group_key IS NOT NULL;

-- Counters: inserts count their groups set-based in the inserting statement, and deletes in a
-- statement trigger (a per-row trigger would update one hot row thousands of times for a bulk
-- insert or purge of one key); state changes are counted by a row trigger whose WHEN clause
-- skips ungrouped rows cheaply, so plain queues pay nothing on their hot path.
CREATE FUNCTION queue.count_group_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_queued int := CASE WHEN OLD.state < 'active' THEN 1 ELSE 0 END;
    old_running int := CASE WHEN OLD.state = 'active' THEN 1 ELSE 0 END;
    new_queued int := CASE WHEN NEW.state < 'active' THEN 1 ELSE 0 END;
    new_running int := CASE WHEN NEW.state = 'active' THEN 1 ELSE 0 END;
BEGIN
    -- The fair claim statement counts its own claims and acknowledgements in one update per
    -- key; it marks itself by setting queue.group_counted_by to its statement timestamp.
    IF current_setting('queue.group_counted_by', true) = statement_timestamp()::text THEN
        RETURN NULL;
    END IF;
    UPDATE queue.job_group
    SET queued = queued + new_queued - old_queued, running = running + new_running - old_running
    WHERE name = OLD.name AND group_key = OLD.group_key;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_group_update AFTER UPDATE OF state ON queue.job FOR EACH ROW
    WHEN (OLD.group_key IS NOT NULL
          AND ((OLD.state < 'active') IS DISTINCT FROM (NEW.state < 'active')
               OR (OLD.state = 'active') IS DISTINCT FROM (NEW.state = 'active')))
    EXECUTE FUNCTION queue.count_group_change();
-- Deletes can remove thousands of one key's jobs at once: count them set-based.
CREATE FUNCTION queue.count_deleted_groups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queue.job_group g
    SET queued = g.queued - d.queued, running = g.running - d.running
    FROM (SELECT name, group_key, count(*) FILTER (WHERE state < 'active') AS queued,
                 count(*) FILTER (WHERE state = 'active') AS running
          FROM deleted WHERE group_key IS NOT NULL AND state <= 'active'
          GROUP BY name, group_key) d
    WHERE g.name = d.name AND g.group_key = d.group_key;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_group_delete AFTER DELETE ON queue.job
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION queue.count_deleted_groups();
