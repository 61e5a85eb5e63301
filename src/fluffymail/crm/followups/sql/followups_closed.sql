-- The follow-ups of one of the user's contacts marked done or dismissed, the latest first (to
-- reopen one); found through followups_contact_id_key_key (contact_id, key).
SELECT f.id, f.contact_id, f.reason, f.key, f.message_id, f.detail, f.due_on, f.state,
       f.remind_on, f.until_reply, f.created_on, f.closed_on,
       coalesce(nullif(c.name, ''), c.primary_address) AS contact_name,
       m.subject AS message_subject, m.date AS message_date
FROM crm.followups f
JOIN crm.contacts c ON c.id = f.contact_id
LEFT JOIN crm.messages m ON m.id = f.message_id AND m.user_id = f.user_id
WHERE f.contact_id = %(contact_id)s AND f.user_id = %(user_id)s
  AND f.state IN ('done', 'dismissed')
ORDER BY f.closed_on DESC, f.id DESC
LIMIT %(limit)s
