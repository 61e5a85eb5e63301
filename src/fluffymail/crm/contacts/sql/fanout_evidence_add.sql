-- Fan-out evidence of a batch (0042): each message the user got without being named on it,
-- with its only To/Cc address and its sender ('' when none). The rule needs a few messages
-- and a few senders, so at most `keep` messages are kept per address and sender (the caller
-- sends at most `keep` of each): an address is marked a group for good once it qualifies.
-- A re-run adds nothing.
INSERT INTO crm.fanout_evidence (user_id, address, sender, message_id)
SELECT %(user_id)s, e.address, e.sender, e.message_id
FROM unnest(%(addresses)s::text[], %(senders)s::text[], %(message_ids)s::bigint[])
     AS e(address, sender, message_id)
WHERE (SELECT count(*) FROM (SELECT 1 FROM crm.fanout_evidence f
                             WHERE f.user_id = %(user_id)s AND f.address = e.address
                               AND f.sender = e.sender
                             LIMIT %(keep)s) kept) < %(keep)s
ORDER BY 2, 3, 4
ON CONFLICT DO NOTHING
