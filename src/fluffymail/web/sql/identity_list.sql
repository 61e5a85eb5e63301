-- The user's own addresses and the other people sending from their mailbox, with the evidence
-- (mailbox_senders) and the contact behind each address.
WITH a AS (
    SELECT address, source FROM crm.user_aliases WHERE user_id = %(user_id)s
), s AS (
    SELECT * FROM crm.mailbox_senders WHERE user_id = %(user_id)s
), u AS (
    SELECT id, email FROM crm.users WHERE id = %(user_id)s
), joined AS (
    SELECT coalesce(a.address, s.address) AS address, a.source, s.display_name, s.sent_messages,
           s.sent_total, s.decided_by, s.reason
    FROM a FULL JOIN s ON s.address = a.address
)
SELECT j.address,
       (j.source IS NOT NULL) AS is_alias,
       coalesce(j.source, '') AS source,
       (j.address = u.email) AS is_account,
       coalesce(j.display_name, '') AS display_name,
       coalesce(j.sent_messages, 0) AS sent_messages,
       coalesce(j.sent_total, 0) AS sent_total,
       coalesce(j.decided_by, CASE WHEN j.source IN ('user', 'owner') THEN 'user' ELSE 'rule' END)
           AS decided_by,
       coalesce(nullif(j.reason, ''), CASE j.source WHEN 'owner' THEN 'the account''s address'
                                                   WHEN 'provider' THEN 'listed by the provider'
                                                   WHEN 'user' THEN 'confirmed by the user'
                                                   ELSE 'one sent-folder message (old rule)' END)
           AS reason,
       (SELECT coalesce(c.merged_into_id, c.id)
        FROM crm.contact_addresses ca JOIN crm.contacts c ON c.id = ca.contact_id
        WHERE ca.user_id = u.id AND ca.address = j.address) AS contact_id
FROM joined j CROSS JOIN u
ORDER BY is_account DESC, is_alias DESC, sent_messages DESC, address
