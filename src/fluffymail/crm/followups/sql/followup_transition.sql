-- Done, dismissed or snoozed (to `remind_on`, or until they write): only an open or snoozed
-- follow-up of the user changes; the row as it is now.
UPDATE crm.followups f SET state = %(state)s,
    remind_on = %(remind_on)s,
    until_reply = %(until_reply)s,
    closed_on = CASE WHEN %(state)s IN ('done', 'dismissed') THEN %(now)s END,
    changed_on = %(now)s
WHERE f.id = %(id)s AND f.user_id = %(user_id)s AND f.state IN ('open', 'snoozed')
RETURNING f.id
