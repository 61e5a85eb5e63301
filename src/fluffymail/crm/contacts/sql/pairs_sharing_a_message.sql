-- Of these pairs of contacts, those that are both recipients (To, Cc) of one message of the
-- user, through addresses that are not damaged (`.john@` may stand for any John): the evidence
-- of identity.namesake_pairs. Links are the user's mail that is not automated (at most 20
-- recipients). One namesake writing to the other is no evidence (a father writing to his son).
-- One pair at a time (LATERAL … LIMIT 1), each from its own addresses and links by key.
SELECT p.a, p.b
FROM unnest(%(a)s::bigint[], %(b)s::bigint[]) AS p(a, b)
CROSS JOIN LATERAL (
    SELECT 1
    FROM crm.contact_addresses xa
    JOIN crm.contact_links x ON x.user_id = xa.user_id AND x.address = xa.address
    JOIN crm.contact_links y ON y.message_id = x.message_id
    JOIN crm.contact_addresses ya ON ya.user_id = y.user_id AND ya.address = y.address
    WHERE xa.contact_id = p.a AND xa.user_id = %(user_id)s AND xa.defect IS NULL
      AND ya.contact_id = p.b AND ya.defect IS NULL
      AND x.role IN ('sent_to', 'cc') AND y.role IN ('sent_to', 'cc')
    LIMIT 1
) found
