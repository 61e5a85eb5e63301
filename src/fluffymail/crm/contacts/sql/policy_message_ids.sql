-- The next page of the connection's extracted messages (by id, after `after_id`): the mail a
-- changed creation policy re-plans. Messages not yet extracted get the new policy anyway.
SELECT DISTINCT mf.message_id
FROM crm.folders f
JOIN crm.message_folders mf ON mf.folder_id = f.id
JOIN crm.messages m ON m.id = mf.message_id
WHERE f.connection_id = %(connection_id)s AND m.user_id = %(user_id)s
  AND mf.message_id > %(after_id)s
  AND NOT EXISTS (SELECT 1 FROM crm.message_pending p
                  WHERE p.user_id = %(user_id)s AND p.message_id = mf.message_id)
ORDER BY mf.message_id
LIMIT %(limit)s
