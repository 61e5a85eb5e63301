-- The user's sent-folder senders as decided (aliases and delegates), with their evidence and
-- the contact behind a delegate's address.
SELECT s.address, s.display_name, s.sent_messages, s.sent_total, s.kind, s.decided_by, s.reason,
       s.updated_on, (a.address IS NOT NULL) AS is_alias, a.source AS alias_source,
       coalesce(c.merged_into_id, c.id) AS contact_id
FROM crm.mailbox_senders s
LEFT JOIN crm.user_aliases a ON a.user_id = s.user_id AND a.address = s.address
LEFT JOIN crm.contact_addresses ca ON ca.user_id = s.user_id AND ca.address = s.address
LEFT JOIN crm.contacts c ON c.id = ca.contact_id
WHERE s.user_id = %(user_id)s
ORDER BY s.kind, s.sent_messages DESC, s.address
