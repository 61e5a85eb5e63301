-- Fan-out evidence of a batch (0042): each message the user got without being named on it,
-- with its only To/Cc address and its sender ('' when none). A re-run adds nothing.
INSERT INTO crm.fanout_evidence (user_id, address, sender, message_id)
SELECT %(user_id)s, e.address, e.sender, e.message_id
FROM unnest(%(addresses)s::text[], %(senders)s::text[], %(message_ids)s::bigint[])
     AS e(address, sender, message_id)
ORDER BY 2, 3, 4
ON CONFLICT DO NOTHING
