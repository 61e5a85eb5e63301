-- Close the user's open or snoozed follow-ups that recomputing no longer finds (the question
-- was answered, the cadence cleared, the relationship warmed up); their ids, to cancel their
-- reminders.
UPDATE crm.followups f SET state = 'resolved', closed_on = now(), changed_on = now(),
    remind_on = NULL, until_reply = false
WHERE f.user_id = %(user_id)s AND f.state IN ('open', 'snoozed')
  AND NOT EXISTS (
      SELECT FROM jsonb_to_recordset(%(keep)s::jsonb) AS k (contact_id bigint, key text)
      WHERE k.contact_id = f.contact_id AND k.key = f.key)
RETURNING f.id
