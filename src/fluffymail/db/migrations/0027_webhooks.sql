-- Webhooks (issue 14): per-workspace subscriptions to the outgoing events (crm.outgoing_events,
-- migration 0023), one delivery per (subscription, event), each attempt logged.
--
-- The `dispatch-webhooks` job fans pending events out to the subscriptions and sets the
-- event's `delivered_on` (handed to the webhooks, whether or not any subscription wanted it);
-- each delivery is a `deliver-webhook` job. `subject` orders deliveries: those of one
-- subscription and subject ('contact-12', 'connection-3', 'user-5') are delivered in id order.

CREATE TABLE crm.webhooks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    created_by   bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    url          text NOT NULL CHECK (url <> ''),
    description  text NOT NULL DEFAULT '',
    events       text[] NOT NULL CHECK (cardinality(events) > 0),
    secret       bytea NOT NULL, -- "whsec_…", encrypted with FLUFFYMAIL_SECRET_KEY
    enabled      boolean NOT NULL DEFAULT true,
    created_on   timestamptz NOT NULL DEFAULT now(),
    changed_on   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_workspace_idx ON crm.webhooks (workspace_id);

CREATE TABLE crm.webhook_deliveries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   bigint NOT NULL REFERENCES crm.webhooks (id) ON DELETE CASCADE,
    event_id     bigint NOT NULL REFERENCES crm.outgoing_events (id) ON DELETE CASCADE,
    subject      text NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    job_id       bigint, -- the queue job delivering it (no foreign key: the queue prunes its jobs)
    resend_of    bigint REFERENCES crm.webhook_deliveries (id) ON DELETE SET NULL,
    attempts     integer NOT NULL DEFAULT 0,
    last_status  integer,
    last_error   text,
    created_on   timestamptz NOT NULL DEFAULT now(),
    finished_on  timestamptz
);
CREATE INDEX webhook_deliveries_log_idx ON crm.webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_pending_idx ON crm.webhook_deliveries (webhook_id, subject, id)
    WHERE state = 'pending';

CREATE TABLE crm.webhook_attempts (
    delivery_id  bigint NOT NULL REFERENCES crm.webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    attempted_on timestamptz NOT NULL,
    status       integer,
    duration_ms  integer NOT NULL,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);

-- An outgoing event of the user's workspace (the one they joined last, as for tags: a
-- personal one until they accept an invite, 0028_teammates.sql), recorded only when an enabled webhook of that workspace subscribes to `p_kind`: with no
-- subscriber nothing is written, so the contacts and relationships triggers below cost a
-- lookup on the rows that changed and nothing more.
CREATE FUNCTION crm.record_webhook_event(p_user_id bigint, p_kind text, p_payload jsonb)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_workspace bigint;
    v_id bigint;
BEGIN
    SELECT m.workspace_id INTO v_workspace FROM crm.workspace_members m
    WHERE m.user_id = p_user_id ORDER BY m.joined_on DESC, m.workspace_id DESC LIMIT 1;
    IF v_workspace IS NULL OR NOT EXISTS (
        SELECT 1 FROM crm.webhooks w
        WHERE w.workspace_id = v_workspace AND w.enabled AND p_kind = ANY (w.events)
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO crm.outgoing_events (workspace_id, user_id, kind, payload)
    VALUES (v_workspace, p_user_id, p_kind, p_payload)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

-- `contact.created` when a contact is shown (made by hand, or its mail made it a contact under
-- the connection's creation policy); `contact.updated` when a shown contact's name, company,
-- kind, hidden state or merge changes, whoever changed it (extraction, a correction, a merge).
CREATE FUNCTION crm.contact_webhook_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_data jsonb := jsonb_build_object(
        'contact_id', NEW.id, 'address', NEW.primary_address, 'name', NEW.name,
        'company_id', NEW.company_id, 'kind', NEW.kind, 'hidden', NEW.suppressed_reason,
        'merged_into_id', NEW.merged_into_id);
    v_changed text[];
BEGIN
    IF TG_OP = 'INSERT' OR NOT OLD.created THEN
        PERFORM crm.record_webhook_event(NEW.user_id, 'contact.created',
            v_data || jsonb_build_object('by_hand', NEW.created_by_hand));
        RETURN NULL;
    END IF;
    v_changed := array_remove(ARRAY[
        CASE WHEN OLD.name IS DISTINCT FROM NEW.name THEN 'name' END,
        CASE WHEN OLD.company_id IS DISTINCT FROM NEW.company_id THEN 'company_id' END,
        CASE WHEN OLD.kind IS DISTINCT FROM NEW.kind THEN 'kind' END,
        CASE WHEN OLD.suppressed_reason IS DISTINCT FROM NEW.suppressed_reason THEN 'hidden' END,
        CASE WHEN OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id THEN 'merged_into_id' END
    ], NULL);
    PERFORM crm.record_webhook_event(NEW.user_id, 'contact.updated',
        v_data || jsonb_build_object('changed', to_jsonb(v_changed)));
    RETURN NULL;
END
$$;
CREATE TRIGGER contacts_webhook_created AFTER INSERT ON crm.contacts
    FOR EACH ROW WHEN (NEW.created AND NEW.suppressed_reason IS NULL)
    EXECUTE FUNCTION crm.contact_webhook_events();
CREATE TRIGGER contacts_webhook_changed AFTER UPDATE ON crm.contacts
    FOR EACH ROW WHEN (NEW.created AND NEW.suppressed_reason IS DISTINCT FROM 'self' AND (
        NOT OLD.created
        OR OLD.name IS DISTINCT FROM NEW.name
        OR OLD.company_id IS DISTINCT FROM NEW.company_id
        OR OLD.kind IS DISTINCT FROM NEW.kind
        OR OLD.suppressed_reason IS DISTINCT FROM NEW.suppressed_reason
        OR OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id))
    EXECUTE FUNCTION crm.contact_webhook_events();

-- A title or phone the user sets by hand is a `contact.updated` too.
CREATE FUNCTION crm.contact_fact_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm.record_webhook_event(c.user_id, 'contact.updated', jsonb_build_object(
        'contact_id', c.id, 'address', c.primary_address, 'name', c.name,
        'company_id', c.company_id, 'kind', c.kind, 'hidden', c.suppressed_reason,
        'merged_into_id', c.merged_into_id, 'changed', jsonb_build_array(NEW.field),
        NEW.field, nullif(NEW.value, '')))
    FROM crm.contacts c WHERE c.id = NEW.contact_id AND c.created;
    RETURN NULL;
END
$$;
CREATE TRIGGER contact_facts_webhook AFTER INSERT OR UPDATE ON crm.contact_facts
    FOR EACH ROW WHEN (NEW.source = 'you')
    EXECUTE FUNCTION crm.contact_fact_webhook_event();

-- `relationship.changed` when an analysis moves a relationship past a level threshold
-- (SCORING.md: 20, 40, 60, 80) or it starts or stops going cold. A first score is no change.
CREATE FUNCTION crm.relationship_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm.record_webhook_event(NEW.user_id, 'relationship.changed', jsonb_build_object(
        'contact_id', NEW.contact_id, 'strength', round(NEW.score::numeric, 1),
        'level', NEW.level, 'previous_level', OLD.level, 'trend', NEW.trend,
        'going_cold', NEW.going_cold, 'was_going_cold', OLD.going_cold,
        'last_contact', NEW.last_at));
    RETURN NULL;
END
$$;
CREATE TRIGGER relationships_webhook AFTER UPDATE ON crm.relationships
    FOR EACH ROW WHEN (OLD.level IS DISTINCT FROM NEW.level OR OLD.going_cold <> NEW.going_cold)
    EXECUTE FUNCTION crm.relationship_webhook_event();
