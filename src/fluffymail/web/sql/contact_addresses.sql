-- A contact's addresses, the primary one first; `sent_for_you`: messages the address sent from
-- the user's sent folders as a delegate (mailbox_senders), 0 otherwise.
SELECT a.address, a.undeliverable, a.address = c.primary_address AS is_primary,
       coalesce(s.sent_messages, 0) AS sent_for_you
FROM crm.contact_addresses a
JOIN crm.contacts c ON c.id = a.contact_id
LEFT JOIN crm.mailbox_senders s
    ON s.user_id = a.user_id AND s.address = a.address AND s.kind = 'delegate'
WHERE a.contact_id = %(id)s AND a.user_id = %(user_id)s
ORDER BY a.address = c.primary_address DESC, a.address
