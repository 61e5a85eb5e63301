-- Whose open or snoozed follow-up it is (its reminder is due as of that user's follow-up time).
SELECT user_id FROM crm.followups WHERE id = %(id)s AND state IN ('open', 'snoozed')
