-- A connection's sync cursor as one small row per folder (issue 19), updated in place for the
-- folder a batch moved. It was one JSON document on crm.connections (225 KB for 139 folders)
-- rewritten whole on every batch, plus every folder's part mirrored onto crm.folders: 26 MB of
-- dead row versions for one import. `folder` '' holds the connection-wide part (Gmail's
-- history id or full-sync page token). No indexed column changes on update and the pages keep
-- room (fillfactor), so each batch's update is a HOT update in the same page.
CREATE TABLE crm.sync_cursors (
    user_id       bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    connection_id bigint NOT NULL REFERENCES crm.connections (id) ON DELETE CASCADE,
    folder        text NOT NULL,    -- the folder's name; '' for the connection-wide part
    position      jsonb NOT NULL,   -- mbox offset + head hash, Maildir last name, IMAP
                                    -- uidvalidity/last_uid/uidnext/highestmodseq, Gmail history id
    synced_on     timestamptz NOT NULL,
    PRIMARY KEY (user_id, connection_id, folder)
) WITH (fillfactor = 50);
CREATE INDEX sync_cursors_connection_idx ON crm.sync_cursors (connection_id);

INSERT INTO crm.sync_cursors (user_id, connection_id, folder, position, synced_on)
SELECT c.id_user, c.id, f.key, f.value, c.at
FROM (
    SELECT user_id AS id_user, id, cursor, coalesce(last_synced_on, now()) AS at
    FROM crm.connections WHERE cursor IS NOT NULL
) c
CROSS JOIN LATERAL jsonb_each(
    CASE WHEN jsonb_typeof(c.cursor -> 'folders') = 'object' THEN c.cursor -> 'folders'
         ELSE '{}' END
) AS f
WHERE jsonb_typeof(f.value) = 'object'
UNION ALL
SELECT user_id, id, '', cursor - 'folders', coalesce(last_synced_on, now())
FROM crm.connections
WHERE jsonb_typeof(cursor) = 'object' AND cursor - 'folders' <> '{}'::jsonb;

ALTER TABLE crm.connections DROP COLUMN cursor;
ALTER TABLE crm.folders DROP COLUMN cursor;
ALTER TABLE crm.folders DROP COLUMN synced_on;
