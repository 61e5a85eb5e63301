-- Record where each message was found (new and already-stored ones alike). A provider id now
-- naming another message (an mbox replaced by a newer export: offsets name other mail) moves
-- to it; returns the messages such a move left in no folder (the sync deletes them).
WITH links AS (
    SELECT (l ->> 0)::bigint AS folder_id, l ->> 1 AS source_id, (l ->> 2)::bigint AS message_id
    FROM jsonb_array_elements(%(links)s::jsonb) AS l
), moved AS (
    SELECT mf.folder_id, mf.source_id, mf.message_id
    FROM crm.message_folders mf
    JOIN links l ON l.folder_id = mf.folder_id AND l.source_id = mf.source_id
    WHERE mf.message_id <> l.message_id
), linked AS (
    INSERT INTO crm.message_folders (folder_id, source_id, message_id)
    SELECT folder_id, source_id, message_id FROM links
    ON CONFLICT (folder_id, source_id) DO UPDATE SET message_id = EXCLUDED.message_id
    WHERE crm.message_folders.message_id <> EXCLUDED.message_id
    RETURNING message_id
)
SELECT DISTINCT m.message_id
FROM moved m
WHERE NOT EXISTS (  -- the statement sees the links as they were: mind the ones it moves
    SELECT 1 FROM crm.message_folders o
    WHERE o.message_id = m.message_id
      AND NOT EXISTS (SELECT 1 FROM moved x
                      WHERE x.folder_id = o.folder_id AND x.source_id = o.source_id)
)
AND NOT EXISTS (SELECT 1 FROM links l WHERE l.message_id = m.message_id)
ORDER BY m.message_id
