-- Forget provider ids of folders: all of them (a resync, or folders a read from scratch did not
-- name), the listed ones (deleted), or all but the listed ones (present). Returns the messages left in no folder of any connection:
-- the sync deletes those it has not found again by its end (delete_unlinked_messages.sql).
WITH forgotten AS (
    DELETE FROM crm.message_folders mf
    USING crm.folders f
    WHERE f.connection_id = %(connection_id)s AND f.name = ANY(%(folders)s::text[])
      AND mf.folder_id = f.id
      AND CASE %(mode)s
            WHEN 'all' THEN true
            WHEN 'listed' THEN mf.source_id = ANY(%(source_ids)b::text[])
            ELSE NOT (mf.source_id = ANY(%(source_ids)b::text[]))
          END
    RETURNING mf.folder_id, mf.source_id, mf.message_id
)
SELECT DISTINCT g.message_id
FROM forgotten g
WHERE NOT EXISTS (  -- the statement still sees the rows it deletes: leave those out
    SELECT 1 FROM crm.message_folders o
    WHERE o.message_id = g.message_id
      AND NOT EXISTS (SELECT 1 FROM forgotten x
                      WHERE x.folder_id = o.folder_id AND x.source_id = o.source_id)
)
ORDER BY g.message_id
