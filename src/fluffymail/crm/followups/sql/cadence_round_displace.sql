-- A keep-in-touch round reopened becomes the contact's current round again (key 'cadence'):
-- the round that took its place makes way, kept as history under 'cadence:<id>' like
-- cadence_archive.sql, closed as resolved when the user had not closed it (it never came due
-- as such: the reopened round is that due). Their ids, to cancel their reminders.
UPDATE crm.followups f SET key = 'cadence:' || f.id,
    state = CASE WHEN f.state IN ('open', 'snoozed') THEN 'resolved' ELSE f.state END,
    closed_on = coalesce(f.closed_on, %(now)s),
    remind_on = CASE WHEN f.state IN ('open', 'snoozed') THEN NULL ELSE f.remind_on END,
    until_reply = false,
    changed_on = %(now)s
WHERE f.user_id = %(user_id)s AND f.contact_id = %(contact_id)s AND f.key = 'cadence'
  AND f.id <> %(id)s
  AND EXISTS (SELECT FROM crm.followups x  -- only for a round that is being reopened
              WHERE x.id = %(id)s AND x.state IN ('done', 'dismissed', 'snoozed'))
RETURNING f.id
