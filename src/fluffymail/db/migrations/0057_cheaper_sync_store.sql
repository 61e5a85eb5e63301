-- Issue 21: the initial IMAP sync at >= 0.6 of a raw fetch, CPU-bound. PostgreSQL spent ~2.0
-- CPU-s storing the bench's 17,011 messages (bench/sync_cpu_bench.py --statements); two of its
-- costs were work the sync did for others, and per-row checks that proved nothing:
--
-- 1. The participants' counting trigger of 0056 (crm.recipient_senders, per To/Cc address and
--    sender, read by the groups pages only): ~0.4 s. The counting moves off the sync to
--    extraction: a message is counted in when extraction processes it, by the statement that
--    takes it off crm.message_pending (contacts/sql/insert_links.sql), and counted out at its
--    deletion only if it was counted in: crm.recipient_senders counts the messages no longer
--    pending.
--
--    Whether a message was counted is decided by deleting its pending row, never by reading
--    it: extraction counts in exactly the messages whose row its DELETE removed, and a
--    message's deletion (crm.delete_message_participants below, which now deletes the pending
--    rows crm.delete_message_state used to) counts out exactly those whose row it did not
--    find. Of an extraction and a deletion of one message at once, the second waits on the
--    first's row lock and then sees what the first did (a read could take a row being deleted
--    for one still there, and count out a message never counted in, or leave one in for
--    ever). Both write the counts after the pending rows and in key order, so they wait rather
--    than deadlock. A name (the greatest From name) is re-read, when its message goes, from the
--    mail counted. The groups pages give the same numbers as before once the mail is
--    extracted; mail waiting for extraction (seconds after its batch is stored) is not counted
--    yet, as its contacts and groups do not exist yet either.
--
-- 2. Foreign keys checked row by row (a lookup and a row lock each, ~3 us) for rows whose
--    parent the store's transaction already holds, as 0012 found for the participants:
--
--      crm.thread_keys.thread_id     every key the store writes names the thread of one of
--                                    the batch's new messages, whose own check
--                                    (crm.messages.thread_id) locks that thread until the
--                                    transaction ends, or fails it: 21k checks per bench sync;
--      crm.message_folders.folder_id the batch's folders are read (or created) by
--                                    mail/sql/ensure_folders.sql, which now locks them as the
--                                    check did (FOR KEY SHARE), once per batch instead of
--                                    once per message: 17k checks;
--      crm.message_folders.message_id a location names a message the batch inserted
--                                    (invisible to anyone who could delete it) or one it
--                                    found stored, which mail/sql/find_existing_messages.sql
--                                    now locks as the check did: 17k checks, ~5k locks.
--
--    Together ~0.2 s. Their cascades become statement-level triggers deleting the same rows in
--    the same statement: a thread's keys go with it (emptied, or with its user), a folder's
--    message locations with it (with its connection), a message's with it. The locations'
--    own triggers (0046's counts, held_private) find the same: the folder or message gone
--    (0046 counts a message's links and folders alike in either order), and now fire once per
--    statement where the cascade fired them once per folder or message deleted.

-- 1. nothing is stored, extracted or deleted while the counts change over
LOCK TABLE crm.messages, crm.message_pending IN SHARE MODE;
LOCK TABLE crm.message_participants IN SHARE ROW EXCLUSIVE MODE;

DROP TRIGGER message_participants_count_added ON crm.message_participants;
DROP FUNCTION crm.message_participants_added();

-- A message's participants go with it (0012), its pending row too (0043). The To/Cc rows of the
-- deleted messages that were no longer pending are counted out first, with the owner and
-- sender of the deleted message (`deleted`: crm.messages no longer has it); a row left at no
-- message goes, and one whose greatest name may have gone reads it again from the mail left
-- and counted (as 0046 re-reads an address's latest message).
CREATE OR REPLACE FUNCTION crm.delete_message_participants() RETURNS trigger
LANGUAGE plpgsql
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    counted bigint[];  -- the deleted messages extraction had counted in
BEGIN
    WITH pending AS (
        DELETE FROM crm.message_pending p USING deleted d
        WHERE p.user_id = d.user_id AND p.message_id = d.id
        RETURNING p.message_id
    )
    SELECT array_agg(d.id) INTO counted
    FROM deleted d
    WHERE NOT EXISTS (SELECT 1 FROM pending q WHERE q.message_id = d.id);
    IF counted IS NOT NULL THEN
        INSERT INTO crm.recipient_senders AS t (user_id, recipient, sender, messages, name)
        SELECT d.user_id, p.address, coalesce(lower(d.from_address), ''), -count(*), ''
        FROM (SELECT DISTINCT p.message_id, p.address
              FROM crm.message_participants p JOIN unnest(counted) c(id) ON c.id = p.message_id
              WHERE p.role IN ('to', 'cc')) p
        JOIN deleted d ON d.id = p.message_id
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (user_id, recipient, sender) DO UPDATE
        SET messages = t.messages + excluded.messages;
        DELETE FROM crm.recipient_senders t
        USING (SELECT DISTINCT d.user_id, p.address, coalesce(lower(d.from_address), '') AS sender
               FROM crm.message_participants p
               JOIN unnest(counted) c(id) ON c.id = p.message_id
               JOIN deleted d ON d.id = p.message_id
               WHERE p.role IN ('to', 'cc')) gone
        WHERE t.user_id = gone.user_id AND t.recipient = gone.address AND t.sender = gone.sender
          AND t.messages <= 0;
        UPDATE crm.recipient_senders t
        SET name = (SELECT coalesce(max(m.from_name), '')
                    FROM crm.message_participants p
                    JOIN crm.messages m ON m.id = p.message_id
                    WHERE p.address = t.recipient AND p.role IN ('to', 'cc')
                      AND m.user_id = t.user_id AND coalesce(lower(m.from_address), '') = t.sender
                      AND NOT EXISTS (SELECT 1 FROM crm.message_pending q
                                      WHERE q.user_id = m.user_id AND q.message_id = m.id))
        FROM (SELECT d.user_id, p.address, coalesce(lower(d.from_address), '') AS sender,
                     max(d.from_name) AS name
              FROM crm.message_participants p
              JOIN unnest(counted) c(id) ON c.id = p.message_id
              JOIN deleted d ON d.id = p.message_id
              WHERE p.role IN ('to', 'cc')
              GROUP BY 1, 2, 3) gone
        WHERE t.user_id = gone.user_id AND t.recipient = gone.address AND t.sender = gone.sender
          AND gone.name >= t.name;
    END IF;
    DELETE FROM crm.message_participants p USING deleted d WHERE p.message_id = d.id;
    RETURN NULL;
END
$$;

-- A deleted message's automated flag goes with it; its pending row went with its participants
-- (above), where its deletion tells whether the message was counted.
CREATE OR REPLACE FUNCTION crm.delete_message_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crm.message_automated a USING deleted d
    WHERE a.user_id = d.user_id AND a.message_id = d.id;
    RETURN NULL;
END
$$;

-- The mail waiting for extraction was counted at its store (0056): counted out, as its deletion
-- would count it, it leaves the counts of the mail no longer pending (and is counted in again
-- when extraction processes it).
INSERT INTO crm.recipient_senders AS t (user_id, recipient, sender, messages, name)
SELECT m.user_id, p.address, coalesce(lower(m.from_address), ''), -count(*), ''
FROM (SELECT DISTINCT p.message_id, p.address
      FROM crm.message_pending q JOIN crm.message_participants p ON p.message_id = q.message_id
      WHERE p.role IN ('to', 'cc')) p
JOIN crm.messages m ON m.id = p.message_id
GROUP BY 1, 2, 3
ON CONFLICT (user_id, recipient, sender) DO UPDATE SET messages = t.messages + excluded.messages;

DELETE FROM crm.recipient_senders WHERE messages <= 0;

UPDATE crm.recipient_senders t
SET name = (SELECT coalesce(max(m.from_name), '')
            FROM crm.message_participants p
            JOIN crm.messages m ON m.id = p.message_id
            WHERE p.address = t.recipient AND p.role IN ('to', 'cc')
              AND m.user_id = t.user_id AND coalesce(lower(m.from_address), '') = t.sender
              AND NOT EXISTS (SELECT 1 FROM crm.message_pending q
                              WHERE q.user_id = m.user_id AND q.message_id = m.id))
FROM (SELECT m.user_id, p.address, coalesce(lower(m.from_address), '') AS sender,
             max(m.from_name) AS name
      FROM crm.message_pending q
      JOIN crm.message_participants p ON p.message_id = q.message_id
      JOIN crm.messages m ON m.id = q.message_id
      WHERE p.role IN ('to', 'cc')
      GROUP BY 1, 2, 3) gone
WHERE t.user_id = gone.user_id AND t.recipient = gone.address AND t.sender = gone.sender
  AND gone.name >= t.name;

-- 2. (no index on crm.thread_keys.thread_id: one pass per statement, where the cascade made one
-- per thread deleted; a key's user_id is its thread's)
ALTER TABLE crm.thread_keys DROP CONSTRAINT thread_keys_thread_id_fkey;

CREATE FUNCTION crm.delete_thread_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crm.thread_keys k USING deleted d
    WHERE k.user_id = d.user_id AND k.thread_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER threads_delete_keys
    AFTER DELETE ON crm.threads
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION crm.delete_thread_keys();

ALTER TABLE crm.message_folders DROP CONSTRAINT message_folders_folder_id_fkey;

CREATE FUNCTION crm.delete_folder_messages() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crm.message_folders mf USING deleted d WHERE mf.folder_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER folders_delete_messages
    AFTER DELETE ON crm.folders
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION crm.delete_folder_messages();

ALTER TABLE crm.message_folders DROP CONSTRAINT message_folders_message_id_fkey;

CREATE FUNCTION crm.delete_message_folders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crm.message_folders mf USING deleted d WHERE mf.message_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_delete_folders
    AFTER DELETE ON crm.messages
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION crm.delete_message_folders();
