-- The user's open and snoozed follow-ups due after `after` and by `until`, soonest first, with the contact and
-- the message that caused each. Served by followups_due_idx (user_id, remind_on, id).
SELECT f.id, f.contact_id, f.reason, f.key, f.message_id, f.detail, f.due_on, f.state,
       f.remind_on, f.until_reply, f.created_on, f.closed_on,
       coalesce(nullif(c.name, ''), c.primary_address) AS contact_name,
       m.subject AS message_subject, m.date AS message_date
FROM crm.followups f
JOIN crm.contacts c ON c.id = f.contact_id
LEFT JOIN crm.messages m ON m.id = f.message_id AND m.user_id = f.user_id
WHERE f.user_id = %(user_id)s AND f.state IN ('open', 'snoozed') AND f.remind_on <= %(until)s
  AND f.remind_on > %(after)s
  AND (%(contact_id)s::bigint IS NULL OR f.contact_id = %(contact_id)s::bigint)
ORDER BY f.remind_on, f.id
LIMIT %(limit)s
