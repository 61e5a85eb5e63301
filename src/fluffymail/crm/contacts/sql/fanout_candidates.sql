-- Of `ids`, the persons (contact, address) whose address fans mail out to the user: the only To/Cc recipient of at least
-- `min_messages` messages the user received without being named on them (not from the user,
-- an alias or a delegate), from at least `min_senders` senders.
WITH me AS (
    SELECT email AS address FROM crm.users WHERE id = %(user_id)s
    UNION SELECT address FROM crm.user_aliases WHERE user_id = %(user_id)s
    UNION SELECT address FROM crm.mailbox_senders WHERE user_id = %(user_id)s
), candidate AS (
    SELECT a.contact_id, a.address FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    WHERE a.user_id = %(user_id)s AND a.contact_id = ANY(%(ids)s::bigint[]) AND c.kind = 'person'
), fanned AS (
    SELECT k.contact_id, k.address, count(DISTINCT m.id) AS messages,
           count(DISTINCT lower(m.from_address)) AS senders
    FROM candidate k
    JOIN crm.message_participants p ON p.address = k.address AND p.role IN ('to', 'cc')
    JOIN crm.messages m ON m.id = p.message_id AND m.user_id = %(user_id)s
    WHERE lower(coalesce(m.from_address, '')) NOT IN (SELECT address FROM me)
      AND NOT EXISTS (SELECT 1 FROM crm.message_participants o
                      WHERE o.message_id = m.id AND o.role IN ('to', 'cc')
                        AND o.address <> k.address)
      AND NOT EXISTS (SELECT 1 FROM crm.message_participants o
                      WHERE o.message_id = m.id AND o.role IN ('to', 'cc', 'bcc')
                        AND lower(o.address) IN (SELECT address FROM me))
    GROUP BY k.contact_id, k.address
)
SELECT contact_id, address FROM fanned
WHERE messages >= %(min_messages)s AND senders >= %(min_senders)s
ORDER BY contact_id
