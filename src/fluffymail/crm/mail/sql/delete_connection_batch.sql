-- One batch of a connection's deletion: forget up to %(limit)s of its (folder, provider id)
-- rows, then delete the messages among them that no other folder (of any connection) still
-- holds. Their threads are recounted; emptied threads go. Returns (rows forgotten, messages
-- deleted, their threads, their ids); run until the first number is 0.
WITH batch AS (
    SELECT mf.folder_id, mf.source_id, mf.message_id
    FROM crm.message_folders mf
    JOIN crm.folders f ON f.id = mf.folder_id
    WHERE f.connection_id = %(id)s
    LIMIT %(limit)s
), forgotten AS (
    DELETE FROM crm.message_folders mf
    USING batch b
    WHERE mf.folder_id = b.folder_id AND mf.source_id = b.source_id
    RETURNING mf.message_id
), orphans AS (
    SELECT DISTINCT f.message_id
    FROM forgotten f
    WHERE NOT EXISTS (
        SELECT 1 FROM crm.message_folders o
        WHERE o.message_id = f.message_id
          AND NOT EXISTS (SELECT 1 FROM batch b
                          WHERE b.folder_id = o.folder_id AND b.source_id = o.source_id)
    )
), deleted AS (
    DELETE FROM crm.messages m
    USING orphans o
    WHERE m.id = o.message_id AND m.user_id = %(user_id)s
    RETURNING m.id, m.thread_id
)
SELECT (SELECT count(*) FROM forgotten) AS forgotten,
       (SELECT count(*) FROM deleted) AS deleted,
       coalesce((SELECT array_agg(DISTINCT thread_id) FROM deleted WHERE thread_id IS NOT NULL),
                '{}') AS thread_ids,
       coalesce((SELECT array_agg(id ORDER BY id) FROM deleted), '{}') AS deleted_ids
