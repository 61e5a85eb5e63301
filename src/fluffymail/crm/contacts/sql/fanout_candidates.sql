-- Of `ids`, the persons (contact, address) whose address fans mail out to the user: the only
-- To/Cc recipient of at least `min_messages` messages the user received without being named on
-- them (not from the user, an alias or a delegate), from at least `min_senders` senders.
-- Reads the evidence extraction keeps (fanout_evidence, 0042), a few index entries per address:
-- the messages are counted up to `min_messages`, the senders stepped through in key order up
-- to `min_senders`, however much mail the address has.
WITH RECURSIVE candidate AS (
    SELECT a.contact_id, a.address FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    WHERE a.user_id = %(user_id)s AND a.contact_id = ANY(%(ids)s::bigint[]) AND c.kind = 'person'
), enough AS (
    SELECT k.* FROM candidate k
    WHERE (SELECT count(*) FROM (SELECT 1 FROM crm.fanout_evidence e
                                 WHERE e.user_id = %(user_id)s AND e.address = k.address
                                 LIMIT %(min_messages)s) n) >= %(min_messages)s
), senders (contact_id, address, sender, n) AS (
    SELECT k.contact_id, k.address,
           (SELECT min(e.sender) FROM crm.fanout_evidence e
            WHERE e.user_id = %(user_id)s AND e.address = k.address AND e.sender > ''), 1
    FROM enough k
    UNION ALL
    SELECT s.contact_id, s.address,
           (SELECT min(e.sender) FROM crm.fanout_evidence e
            WHERE e.user_id = %(user_id)s AND e.address = s.address AND e.sender > s.sender),
           s.n + 1
    FROM senders s
    WHERE s.sender IS NOT NULL AND s.n < %(min_senders)s
)
SELECT contact_id, address FROM senders
WHERE sender IS NOT NULL AND n >= %(min_senders)s
ORDER BY contact_id
