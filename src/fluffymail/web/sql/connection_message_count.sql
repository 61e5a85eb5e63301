-- How many messages a connection has read (once each, however many of its folders hold one).
SELECT count(DISTINCT mf.message_id)
FROM crm.folders f
JOIN crm.message_folders mf ON mf.folder_id = f.id
WHERE f.connection_id = %(id)s
