-- A contact's enriched fields with the message each came from (the user's own messages only).
SELECT f.id, f.field, f.value, f.kind, f.source, f.confidence, f.observed_on, f.is_current,
       m.id AS message_id, m.subject AS message_subject, m.date AS message_date
FROM crm.contact_facts f
JOIN crm.contacts c ON c.id = f.contact_id
LEFT JOIN crm.messages m ON m.id = f.source_message_id AND m.user_id = c.user_id
WHERE f.contact_id = %(id)s AND c.user_id = %(user_id)s
ORDER BY f.is_current DESC, f.field, f.observed_on DESC, f.id
