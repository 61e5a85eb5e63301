-- Follow-ups (issue 13): a keep-in-touch cadence per contact, the follow-ups due from it, from
-- relationships going cold and from open loops in the mail (a question they asked, a promise
-- you made), their reminders, the optional daily digest, and the outgoing events that a
-- later webhooks issue delivers.
--
-- A follow-up belongs to the user whose contact it is and to that user's workspace. `key`
-- names what caused it ('cadence', 'cold:<message>', 'question:<message>', 'promise:<message>')
-- so recomputing is an upsert. `remind_on` is when it is (next) due: the due time while
-- open, the snooze's end while snoozed to a date, NULL while snoozed until they write.

CREATE TABLE crm.contact_cadences (
    contact_id   bigint PRIMARY KEY REFERENCES crm.contacts (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    days         integer NOT NULL CHECK (days BETWEEN 1 AND 3650),
    set_by       bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    set_on       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_cadences_user_idx ON crm.contact_cadences (user_id);

CREATE TABLE crm.followups (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    contact_id   bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    reason       text NOT NULL CHECK (reason IN ('cadence', 'cold', 'question', 'promise')),
    key          text NOT NULL CHECK (key <> ''),
    message_id   bigint REFERENCES crm.messages (id) ON DELETE SET NULL,
    detail       text NOT NULL DEFAULT '',
    due_on       timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'snoozed', 'done', 'dismissed', 'resolved')),
    remind_on    timestamptz,
    until_reply  boolean NOT NULL DEFAULT false,
    reminded_for timestamptz,
    created_on   timestamptz NOT NULL DEFAULT now(),
    changed_on   timestamptz NOT NULL DEFAULT now(),
    closed_on    timestamptz,
    UNIQUE (contact_id, key),
    CHECK ((state IN ('open', 'snoozed')) = (closed_on IS NULL))
);
CREATE INDEX followups_due_idx ON crm.followups (user_id, remind_on, id)
    WHERE state IN ('open', 'snoozed');
CREATE INDEX followups_waiting_idx ON crm.followups (user_id, contact_id)
    WHERE state = 'snoozed' AND until_reply;

CREATE TABLE crm.followup_settings (
    user_id     bigint PRIMARY KEY REFERENCES crm.users (id) ON DELETE CASCADE,
    digest      boolean NOT NULL DEFAULT false,
    changed_on  timestamptz NOT NULL DEFAULT now()
);

-- Outgoing events (`followup.due`, `followups.due`): written in the transaction of what caused
-- them; the webhooks issue delivers them and sets `delivered_on`.
CREATE TABLE crm.outgoing_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    user_id      bigint REFERENCES crm.users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind <> ''),
    dedup_key    text,
    payload      jsonb NOT NULL DEFAULT '{}',
    created_on   timestamptz NOT NULL DEFAULT now(),
    delivered_on timestamptz,
    UNIQUE (kind, dedup_key)
);
CREATE INDEX outgoing_events_pending_idx ON crm.outgoing_events (id) WHERE delivered_on IS NULL;
