-- Close the open or snoozed cadence follow-ups of those contacts that no longer have a cadence.
UPDATE crm.followups f SET state = 'resolved', closed_on = now(), changed_on = now(),
    remind_on = NULL, until_reply = false
WHERE f.user_id = %(user_id)s AND f.key = 'cadence' AND f.contact_id = ANY(%(contact_ids)s::bigint[])
  AND f.state IN ('open', 'snoozed')
  AND NOT EXISTS (SELECT FROM crm.contact_cadences cc WHERE cc.contact_id = f.contact_id)
RETURNING f.id
