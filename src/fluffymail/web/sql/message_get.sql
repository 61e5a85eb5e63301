-- One of the user's messages: headers and body text, and the names of its RFC 5322 groups.
SELECT m.id, m.subject, m.date, m.from_address, m.from_name, m.body_text,
       m.message_id AS message_id_header, m.thread_id, t.subject AS thread_subject,
       t.message_count AS thread_message_count, x.reason AS automated_reason,
       coalesce(m.extra_headers->'address_groups', '[]'::jsonb) AS address_groups
FROM crm.messages m
LEFT JOIN crm.threads t ON t.id = m.thread_id
LEFT JOIN crm.message_automated x ON x.user_id = m.user_id AND x.message_id = m.id
WHERE m.id = %(id)s AND m.user_id = %(user_id)s
