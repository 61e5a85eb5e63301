-- Record where each message was found (new and already-stored ones alike).
INSERT INTO crm.message_folders (folder_id, source_id, message_id)
SELECT l.folder_id, l.source_id, m.id
FROM jsonb_to_recordset(%(links)s::jsonb) AS l(folder_id bigint, source_id text, dedup_key text)
JOIN crm.messages m ON m.user_id = %(user_id)s AND m.dedup_key = l.dedup_key
ON CONFLICT (folder_id, source_id) DO UPDATE SET message_id = EXCLUDED.message_id
WHERE crm.message_folders.message_id <> EXCLUDED.message_id
