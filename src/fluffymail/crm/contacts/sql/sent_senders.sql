-- Every address seen as From in the user's sent folders (folder names matching
-- `sent_pattern`: extraction.is_sent_folder's rule), its messages and most used display name.
WITH sent AS (
    SELECT lower(m.from_address) AS address,
           coalesce(nullif(m.from_name, ''), m.extra_headers->>'x_from', '') AS name
    FROM crm.messages m
    WHERE m.user_id = %(user_id)s AND m.from_address IS NOT NULL
      AND EXISTS (
          SELECT 1 FROM crm.message_folders mf JOIN crm.folders f ON f.id = mf.folder_id
          WHERE mf.message_id = m.id AND f.name ~* %(sent_pattern)s)
)
SELECT address, count(*)::int AS messages, mode() WITHIN GROUP (ORDER BY name) AS display_name
FROM sent
GROUP BY address
ORDER BY address
