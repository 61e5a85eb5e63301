-- The contact's messages with the user, newest first, while they fit `max_chars`: mail the
-- contact sent the user, and mail the user sent with the contact on To or Cc. Mail from third
-- parties that merely copies both is not "with the user". `private`: one of the connections the
-- message is found in forbids sending bodies to an external model (0008_ai_privacy.sql), or one
-- that did once held it (`held_private`, 0016_message_deletions.sql).
WITH linked AS (
    SELECT l.message_id, bool_or(l.role = 'received_from') AS from_contact
    FROM crm.contact_addresses a
    JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
    WHERE a.user_id = %(user_id)s AND a.contact_id = %(contact_id)s
      AND l.role IN ('received_from', 'sent_to', 'cc')
    GROUP BY l.message_id
), mine AS (
    SELECT m.id, m.thread_id, coalesce(m.date, m.created_on) AS sent_on,
           m.subject, coalesce(t.subject, m.subject) AS thread_subject,
           left(m.body_text, %(max_body_chars)s) AS body,
           k.from_contact,
           m.held_private OR EXISTS (
               SELECT 1
               FROM crm.message_folders mf
               JOIN crm.folders f ON f.id = mf.folder_id
               JOIN crm.connections c ON c.id = f.connection_id
               WHERE mf.message_id = m.id AND c.visibility <> 'full'
           ) AS private
    FROM linked k
    JOIN crm.messages m ON m.id = k.message_id
    LEFT JOIN crm.threads t ON t.id = m.thread_id
    WHERE k.from_contact
       OR lower(m.from_address) = (SELECT u.email FROM crm.users u WHERE u.id = m.user_id)
       OR EXISTS (
           SELECT 1 FROM crm.user_aliases ua
           WHERE ua.user_id = m.user_id AND ua.address = lower(m.from_address)
       )
), costed AS (
    SELECT mine.*,
           sum(length(body) + length(subject) + 80)
               OVER (ORDER BY sent_on DESC, id DESC ROWS UNBOUNDED PRECEDING)
           - (length(body) + length(subject) + 80) AS chars_before
    FROM mine
)
SELECT id, thread_id, sent_on, subject, thread_subject, body, from_contact, private
FROM costed
WHERE chars_before < %(max_chars)s
ORDER BY sent_on DESC, id DESC
LIMIT %(max_messages)s
