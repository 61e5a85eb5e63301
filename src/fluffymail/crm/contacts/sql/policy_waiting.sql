-- People who wrote to the user through one of the user's connections and are not contacts
-- (the creation policy held them back), most messages first, with the messages they sent
-- through it and the latest one. `total` is the count of all such people.
-- From the counts kept per connection and address (0046): one row per address of a
-- held-back person; names are read for the people found only. A message from two addresses
-- of one person counts once (`shared`).
WITH connection AS (
    SELECT cn.id FROM crm.connections cn
    WHERE cn.id = %(connection_id)s AND cn.user_id = %(user_id)s
), wrote AS MATERIALIZED (
    SELECT c.id, sum(k.received) AS messages, max(k.last_received_on) AS last_on
    FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    JOIN crm.connection_correspondents k
        ON k.user_id = a.user_id AND k.connection_id = (SELECT id FROM connection)
       AND k.address = a.address
    WHERE a.user_id = %(user_id)s AND c.user_id = %(user_id)s AND NOT c.created
      AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
      AND k.received > 0
    GROUP BY c.id
), shared AS MATERIALIZED (   -- messages from several addresses of one person, counted once
    -- (crm.co_authored_messages: a From that lists several addresses; a handful per mailbox)
    SELECT a.contact_id, co.message_id, count(*) - 1 AS extra
    FROM crm.co_authored_messages co
    JOIN crm.contact_links l ON l.message_id = co.message_id AND l.role = 'received_from'
    JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
    WHERE co.user_id = %(user_id)s
    GROUP BY a.contact_id, co.message_id
    HAVING count(*) > 1
), counted AS (
    SELECT w.id, w.last_on, w.messages - coalesce((
        SELECT sum(s.extra) FROM shared s
        WHERE s.contact_id = w.id
          AND (SELECT id FROM connection) = ANY (crm.message_connections(s.message_id))
    ), 0) AS messages
    FROM wrote w
)
SELECT c.id, c.primary_address, c.name, w.messages, w.last_on, count(*) OVER () AS total
FROM counted w
JOIN crm.contacts c ON c.id = w.id
ORDER BY w.messages DESC, w.last_on DESC NULLS LAST, c.id
LIMIT %(limit)s OFFSET %(offset)s
