-- Follow-ups snoozed "until they write" whose contact wrote since: open again, due when the
-- message came (still linked to the message that caused the follow-up).
WITH woken AS (
    SELECT DISTINCT ON (f.id) f.id, m.date
    FROM crm.followups f
    JOIN crm.contact_addresses a ON a.contact_id = f.contact_id AND a.user_id = f.user_id
    JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
        AND l.role = 'received_from'
    JOIN crm.messages m ON m.id = l.message_id
    WHERE f.user_id = %(user_id)s AND f.state = 'snoozed' AND f.until_reply
      AND m.date > f.changed_on
    ORDER BY f.id, m.date, m.id
)
UPDATE crm.followups f SET state = 'open', until_reply = false, remind_on = w.date,
    changed_on = now()
FROM woken w
WHERE f.id = w.id
RETURNING f.id, f.remind_on
