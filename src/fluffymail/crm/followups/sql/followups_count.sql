-- How many of the user's follow-ups are due by `until` (open or snoozed).
SELECT count(*) AS n FROM crm.followups
WHERE user_id = %(user_id)s AND state IN ('open', 'snoozed') AND remind_on <= %(until)s
