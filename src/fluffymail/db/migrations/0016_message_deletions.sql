-- Mail deleted on the server (issue 21, item 2). The sync deletes a message once no folder of
-- any of the user's connections holds it (crm/mail/README.md, "Deletions"); a message that
-- stays keeps the privacy of every connection that held it: when a folder link of a
-- connection that keeps bodies private ('metadata') goes, the message is marked `held_private`,
-- and the summariser treats it as private for good (0008_ai_privacy.sql), whichever path
-- removed the link (a deletion on the server, a resync, a deleted connection) or moved it to
-- another message (a provider id reused by a newer export).
ALTER TABLE crm.messages ADD COLUMN held_private boolean NOT NULL DEFAULT false;

CREATE FUNCTION crm.keep_privacy_of_unlinked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE crm.messages m SET held_private = true
    FROM unlinked u
    JOIN crm.folders f ON f.id = u.folder_id
    JOIN crm.connections c ON c.id = f.connection_id
    WHERE m.id = u.message_id AND c.visibility <> 'full' AND NOT m.held_private;
    RETURN NULL;
END
$$;

CREATE TRIGGER message_folders_keep_privacy
    AFTER DELETE ON crm.message_folders
    REFERENCING OLD TABLE AS unlinked
    FOR EACH STATEMENT EXECUTE FUNCTION crm.keep_privacy_of_unlinked();

CREATE TRIGGER message_folders_keep_privacy_on_move
    AFTER UPDATE ON crm.message_folders
    REFERENCING OLD TABLE AS unlinked
    FOR EACH STATEMENT EXECUTE FUNCTION crm.keep_privacy_of_unlinked();

-- Sync progress people can read (issue 21, item 3): the folder being read, and when the server
-- last answered. A sync whose server has been silent for a few seconds reads as "stalled"
-- (derived when reading, web/sql/list_connections.sql), long before its timeout.
ALTER TABLE crm.connections
    ADD COLUMN progress_folder text,
    ADD COLUMN last_progress_on timestamptz;
