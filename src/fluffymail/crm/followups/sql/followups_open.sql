-- How many of the user's follow-ups are open or snoozed (an index-only scan of
-- followups_due_idx).
SELECT count(*) AS n FROM crm.followups
WHERE user_id = %(user_id)s AND state IN ('open', 'snoozed')
