-- Relationship intelligence (issue 6): one scored relationship per (user, contact) with the
-- evidence behind it, the incremental state that lets a re-analysis read only new mail, the
-- per-user analysis cursor, introductions, AI summaries with their citations, and the daily
-- token spend per user.

-- The latest analysis of one (user, contact). `state` is RelationshipState.to_json(): what an
-- incremental run folds new messages into; everything else is derived from it at `computed_on`.
CREATE TABLE crm.relationships (
    user_id         bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    contact_id      bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    score           real NOT NULL CHECK (score BETWEEN 0 AND 100),
    level           text NOT NULL,   -- models.Level value: 'very strong' … 'no connection'
    trend           text NOT NULL,   -- models.Trend value: 'warming' | 'steady' | 'cooling'
    going_cold      boolean NOT NULL DEFAULT false,
    sent            integer NOT NULL DEFAULT 0,
    received        integer NOT NULL DEFAULT 0,
    two_way_threads integer NOT NULL DEFAULT 0,
    first_at        timestamptz,
    last_at         timestamptz,
    evidence        jsonb NOT NULL DEFAULT '[]',   -- [{"text": …, "message_ids": [crm.messages.id as text, …]}]
    stats           jsonb NOT NULL DEFAULT '{}',   -- RelationshipStats + ScoreParts, for display
    state           jsonb NOT NULL DEFAULT '{}',
    computed_on     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, contact_id)
);
CREATE INDEX relationships_rank_idx ON crm.relationships (user_id, score DESC, contact_id);
CREATE INDEX relationships_contact_idx ON crm.relationships (contact_id);

-- Where the last analysis of a user stopped: messages with id > last_message_id are new.
CREATE TABLE crm.relationship_runs (
    user_id         bigint PRIMARY KEY REFERENCES crm.users (id) ON DELETE CASCADE,
    last_message_id bigint NOT NULL DEFAULT 0,
    analyzed_on     timestamptz,
    full_on         timestamptz   -- the last full recompute
);

-- Who introduced a contact to the user (Affinity's rule), with the message that shows it.
CREATE TABLE crm.introductions (
    user_id          bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    contact_id       bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    introducer       text NOT NULL,   -- an address: a contact, a teammate or the user
    introducer_contact_id bigint REFERENCES crm.contacts (id) ON DELETE SET NULL,
    message_id       bigint REFERENCES crm.messages (id) ON DELETE SET NULL,
    introduced_on    timestamptz,
    PRIMARY KEY (user_id, contact_id)
);

-- AI (or extractive) summary of one relationship. Re-run only when the contact has mail newer
-- than `last_message_at`, or the model / prompt version changed.
CREATE TABLE crm.relationship_summaries (
    user_id         bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    contact_id      bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    status          text NOT NULL CHECK (status IN ('ok', 'failed')),
    generated_by    text NOT NULL,   -- model name, or summaries.EXTRACTIVE
    prompt_version  text NOT NULL,
    summary         jsonb,           -- {who, discussed, open_loops, next_step, citations: [message id]}
    error           text,            -- why status = 'failed'
    input_tokens    integer NOT NULL DEFAULT 0,
    output_tokens   integer NOT NULL DEFAULT 0,
    last_message_at timestamptz,     -- newest message in the input
    created_on      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, contact_id)
);

-- Tokens spent per user per UTC day, checked against the daily budget before each call.
CREATE TABLE crm.ai_usage (
    user_id bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    day     date NOT NULL,
    tokens  bigint NOT NULL DEFAULT 0,
    calls   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);
