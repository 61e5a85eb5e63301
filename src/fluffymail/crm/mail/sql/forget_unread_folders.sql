-- After a read from scratch: forget every provider id of the connection's folders that the read
-- did not name (a folder gone from a newer export or from the server). Returns the messages
-- left in no folder of any connection, as forget_folder_sources.sql does.
WITH forgotten AS (
    DELETE FROM crm.message_folders mf
    USING crm.folders f
    WHERE f.connection_id = %(connection_id)s AND NOT (f.name = ANY(%(names)s::text[]))
      AND mf.folder_id = f.id
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
