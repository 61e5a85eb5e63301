-- How many of the connection's messages are not yet extracted.
SELECT count(*)
FROM crm.message_pending p
WHERE p.user_id = %(user_id)s
  AND p.message_id IN (SELECT mf.message_id FROM crm.folders f
               JOIN crm.message_folders mf ON mf.folder_id = f.id
               WHERE f.connection_id = %(connection_id)s)
