-- One of the user's follow-ups, with its contact and message (locked for a change when asked).
SELECT f.id, f.contact_id, f.reason, f.key, f.message_id, f.detail, f.due_on, f.state,
       f.remind_on, f.until_reply, f.created_on, f.closed_on,
       coalesce(nullif(c.name, ''), c.primary_address) AS contact_name,
       m.subject AS message_subject, m.date AS message_date
FROM crm.followups f
JOIN crm.contacts c ON c.id = f.contact_id
LEFT JOIN crm.messages m ON m.id = f.message_id AND m.user_id = f.user_id
WHERE f.id = %(id)s AND f.user_id = %(user_id)s
