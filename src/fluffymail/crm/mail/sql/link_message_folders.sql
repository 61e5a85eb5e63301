-- Record where each message was found (new and already-stored ones alike).
INSERT INTO crm.message_folders (folder_id, source_id, message_id)
SELECT (l ->> 0)::bigint, l ->> 1, (l ->> 2)::bigint
FROM jsonb_array_elements(%(links)s::jsonb) AS l
ON CONFLICT (folder_id, source_id) DO UPDATE SET message_id = EXCLUDED.message_id
WHERE crm.message_folders.message_id <> EXCLUDED.message_id
