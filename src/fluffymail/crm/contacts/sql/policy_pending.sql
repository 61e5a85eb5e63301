-- How many of the connection's messages are not yet extracted.
SELECT count(*)
FROM crm.messages m
WHERE m.processed_on IS NULL AND m.user_id = %(user_id)s
  AND m.id IN (SELECT mf.message_id FROM crm.folders f
               JOIN crm.message_folders mf ON mf.folder_id = f.id
               WHERE f.connection_id = %(connection_id)s)
