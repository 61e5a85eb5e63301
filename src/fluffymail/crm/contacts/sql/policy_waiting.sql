-- People who wrote to the user through one of the user's connections and are not contacts
-- (the creation policy held them back), most messages first, with the messages they sent
-- through it and the latest one. `total` is the count of all such people.
SELECT c.id, c.primary_address, c.name, count(DISTINCT l.message_id) AS messages,
       max(l.occurred_on) AS last_on, count(*) OVER () AS total
FROM crm.connections cn
JOIN crm.folders f ON f.connection_id = cn.id
JOIN crm.message_folders mf ON mf.folder_id = f.id
JOIN crm.contact_links l ON l.message_id = mf.message_id AND l.role = 'received_from'
JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
JOIN crm.contacts c ON c.id = a.contact_id
WHERE cn.id = %(connection_id)s AND cn.user_id = %(user_id)s AND c.user_id = %(user_id)s
  AND NOT c.created AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
GROUP BY c.id
ORDER BY messages DESC, last_on DESC NULLS LAST, c.id
LIMIT %(limit)s OFFSET %(offset)s
