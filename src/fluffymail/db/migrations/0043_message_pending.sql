-- Bytes per stored message (issue 19): extraction's state of a message leaves crm.messages.
-- extract-contacts updated every message once (processed_on, automated_reason), so the table
-- was kept at fillfactor 50 (0014) for that update to stay on its page: at 1M messages its
-- heap was 2,536 bytes per message against ~1,250 packed (1,203 measured after this). Now no
-- routine path updates a message row:
--   crm.message_pending   the messages extraction has not processed yet: a row per message,
--                         added by a statement-level trigger on every insert (the sync's COPY,
--                         imports, a test's INSERT) and deleted by extraction
--                         (contacts/sql/insert_links.sql);
--   crm.message_automated the automated ones and why: written by extraction, which also
--                         deletes the row of a message a re-extraction no longer finds
--                         automated.
-- Both go with their message through a statement-level trigger joining on (user_id, id), so
-- the primary keys are used; no foreign key (a cascade by message id alone could not use them,
-- and its per-row check would cost every stored message a lookup, see 0012).
CREATE TABLE crm.message_pending (
    user_id    bigint NOT NULL,
    message_id bigint NOT NULL,
    PRIMARY KEY (user_id, message_id)
);

CREATE TABLE crm.message_automated (
    user_id    bigint NOT NULL,
    message_id bigint NOT NULL,
    reason     text   NOT NULL,
    PRIMARY KEY (user_id, message_id)
);

CREATE FUNCTION crm.message_pending_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crm.message_pending (user_id, message_id)
    SELECT n.user_id, n.id FROM inserted n ORDER BY n.user_id, n.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_pending_insert
    AFTER INSERT ON crm.messages
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_pending_insert();

CREATE FUNCTION crm.delete_message_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crm.message_pending p USING deleted d
    WHERE p.user_id = d.user_id AND p.message_id = d.id;
    DELETE FROM crm.message_automated a USING deleted d
    WHERE a.user_id = d.user_id AND a.message_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_delete_state
    AFTER DELETE ON crm.messages
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION crm.delete_message_state();

INSERT INTO crm.message_pending (user_id, message_id)
SELECT user_id, id FROM crm.messages WHERE processed_on IS NULL ORDER BY user_id, id;

INSERT INTO crm.message_automated (user_id, message_id, reason)
SELECT user_id, id, automated_reason FROM crm.messages WHERE automated_reason IS NOT NULL
ORDER BY user_id, id;

ALTER TABLE crm.messages DROP COLUMN processed_on, DROP COLUMN automated_reason;

-- Pages written from now on are packed full. Existing rows are not rewritten (nor is the
-- space of the dropped columns given back): `VACUUM FULL crm.messages` repacks them, at the
-- cost of an exclusive lock for its duration.
ALTER TABLE crm.messages SET (fillfactor = 100);
