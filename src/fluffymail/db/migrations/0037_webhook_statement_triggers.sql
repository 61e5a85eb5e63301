-- New contacts and facts set by hand record their webhook events once per statement, not once
-- per row (issue 14's CSV bar). 0027's row triggers looked up the user's workspace and its
-- subscriptions for every contact a statement made, so a 100,000-contact import or an
-- extraction batch paid two index lookups and a JSON build per contact even when nobody
-- subscribed (half of the import's INSERT). The same events, in the same order (by row id
-- within a statement), now come from statement triggers over transition tables: one
-- subscription check per user and event kind, nothing more when no webhook wants the kind.
-- Updates of contacts and relationships keep their row triggers: their WHEN clauses pass few
-- rows, where a statement trigger would copy every updated row into its transition tables.

-- The users among `p_user_ids` whose workspace (the one they joined last) has an enabled
-- webhook subscribed to `p_kind`, with that workspace.
CREATE FUNCTION crm.webhook_targets(p_user_ids bigint[], p_kind text)
RETURNS TABLE (user_id bigint, workspace_id bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT u.id, ws.workspace_id
    FROM unnest(p_user_ids) AS u (id)
    CROSS JOIN LATERAL (
        SELECT m.workspace_id FROM crm.workspace_members m
        WHERE m.user_id = u.id ORDER BY m.joined_on DESC, m.workspace_id DESC LIMIT 1
    ) ws
    WHERE EXISTS (
        SELECT 1 FROM crm.webhooks w
        WHERE w.workspace_id = ws.workspace_id AND w.enabled AND p_kind = ANY (w.events)
    );
END
$$;

DROP TRIGGER contacts_webhook_created ON crm.contacts;
DROP TRIGGER contact_facts_webhook ON crm.contact_facts;
DROP FUNCTION crm.contact_fact_webhook_event();

-- `contact.created` when a contact is shown (made by hand, or its mail made it a contact under
-- the connection's creation policy).
CREATE FUNCTION crm.contacts_created_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crm.outgoing_events (workspace_id, user_id, kind, payload)
    SELECT t.workspace_id, n.user_id, 'contact.created', jsonb_build_object(
        'contact_id', n.id, 'address', n.primary_address, 'name', n.name,
        'company_id', n.company_id, 'kind', n.kind, 'hidden', n.suppressed_reason,
        'merged_into_id', n.merged_into_id, 'by_hand', n.created_by_hand)
    FROM crm.webhook_targets(ARRAY(SELECT DISTINCT user_id FROM made), 'contact.created') t
    JOIN made n ON n.user_id = t.user_id
    WHERE n.created AND n.suppressed_reason IS NULL
    ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER contacts_webhook_created AFTER INSERT ON crm.contacts
    REFERENCING NEW TABLE AS made
    FOR EACH STATEMENT EXECUTE FUNCTION crm.contacts_created_events();

-- A title or phone the user sets by hand is a `contact.updated` too.
CREATE FUNCTION crm.contact_facts_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH set_by_you AS (
        SELECT f.id, f.field, f.value, c.id AS contact_id, c.user_id, c.primary_address, c.name,
               c.company_id, c.kind, c.suppressed_reason, c.merged_into_id
        FROM facts f JOIN crm.contacts c ON c.id = f.contact_id
        WHERE f.source = 'you' AND c.created
    )
    INSERT INTO crm.outgoing_events (workspace_id, user_id, kind, payload)
    SELECT t.workspace_id, s.user_id, 'contact.updated', jsonb_build_object(
        'contact_id', s.contact_id, 'address', s.primary_address, 'name', s.name,
        'company_id', s.company_id, 'kind', s.kind, 'hidden', s.suppressed_reason,
        'merged_into_id', s.merged_into_id, 'changed', jsonb_build_array(s.field),
        s.field, nullif(s.value, ''))
    FROM crm.webhook_targets(ARRAY(SELECT DISTINCT user_id FROM set_by_you), 'contact.updated') t
    JOIN set_by_you s ON s.user_id = t.user_id
    ORDER BY s.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER contact_facts_webhook_insert AFTER INSERT ON crm.contact_facts
    REFERENCING NEW TABLE AS facts
    FOR EACH STATEMENT EXECUTE FUNCTION crm.contact_facts_events();
CREATE TRIGGER contact_facts_webhook_update AFTER UPDATE ON crm.contact_facts
    REFERENCING NEW TABLE AS facts
    FOR EACH STATEMENT EXECUTE FUNCTION crm.contact_facts_events();
