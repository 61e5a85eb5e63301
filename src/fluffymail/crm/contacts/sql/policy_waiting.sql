-- People who wrote to the user through one of the user's connections and are not contacts
-- (the creation policy held them back), most messages first, with the messages they sent
-- through it and the latest one. `total` is the count of all such people.
WITH msgs AS (
    SELECT mf.message_id AS id
    FROM crm.connections cn
    JOIN crm.folders f ON f.connection_id = cn.id
    JOIN crm.message_folders mf ON mf.folder_id = f.id
    WHERE cn.id = %(connection_id)s AND cn.user_id = %(user_id)s
    GROUP BY mf.message_id
), senders AS (
    SELECT a.contact_id, count(DISTINCT l.message_id) AS messages, max(l.occurred_on) AS last_on
    FROM msgs
    JOIN crm.contact_links l ON l.message_id = msgs.id AND l.role = 'received_from'
    JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
    GROUP BY a.contact_id
)
SELECT c.id, c.primary_address, c.name, s.messages, s.last_on, count(*) OVER () AS total
FROM senders s
JOIN crm.contacts c ON c.id = s.contact_id
WHERE c.user_id = %(user_id)s AND NOT c.created AND c.merged_into_id IS NULL
  AND c.suppressed_reason IS NULL
ORDER BY s.messages DESC, s.last_on DESC NULLS LAST, c.id
LIMIT %(limit)s OFFSET %(offset)s
