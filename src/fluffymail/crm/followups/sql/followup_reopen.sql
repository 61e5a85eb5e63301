-- Reopen a follow-up the user marked done or dismissed, or snoozed: open again and due when it
-- was due (the caller schedules its reminder then). A keep-in-touch round takes back the
-- contact's current-round key (cadence_archive.sql renamed it when it was closed;
-- cadence_round_displace.sql made way). The row's id, none when it was not closed or snoozed.
UPDATE crm.followups f SET state = 'open',
    remind_on = f.due_on,
    until_reply = false,
    closed_on = NULL,
    changed_on = %(now)s,
    key = CASE WHEN f.reason = 'cadence' THEN 'cadence' ELSE f.key END
WHERE f.id = %(id)s AND f.user_id = %(user_id)s AND f.state IN ('done', 'dismissed', 'snoozed')
RETURNING f.id
