-- People who wrote to the user through one of the user's connections and are not contacts
-- (the creation policy held them back), most messages first, with the messages they sent
-- through it and the latest one. `total` is the count of all such people.
-- From the people's side (0045): the held-back people's addresses, their "from" links (index
-- only) and, per link, whether its message is in one of the connection's folders (an index
-- probe, whatever the row estimates); names are read for the people found only.
WITH folders AS MATERIALIZED (
    SELECT f.id FROM crm.connections cn JOIN crm.folders f ON f.connection_id = cn.id
    WHERE cn.id = %(connection_id)s AND cn.user_id = %(user_id)s
), held AS MATERIALIZED (   -- the addresses of the user's live people who are not contacts
    SELECT a.address, c.id
    FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    WHERE a.user_id = %(user_id)s AND c.user_id = %(user_id)s AND NOT c.created
      AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
), wrote AS MATERIALIZED (
    SELECT h.id, count(DISTINCT l.message_id) AS messages, max(l.occurred_on) AS last_on
    FROM held h
    JOIN crm.contact_links l
        ON l.user_id = %(user_id)s AND l.address = h.address AND l.role = 'received_from'
    WHERE EXISTS (SELECT 1 FROM crm.message_folders mf
                  WHERE mf.message_id = l.message_id AND mf.folder_id IN (SELECT id FROM folders))
    GROUP BY h.id
)
SELECT c.id, c.primary_address, c.name, w.messages, w.last_on, count(*) OVER () AS total
FROM wrote w
JOIN crm.contacts c ON c.id = w.id
ORDER BY w.messages DESC, w.last_on DESC NULLS LAST, c.id
LIMIT %(limit)s OFFSET %(offset)s
