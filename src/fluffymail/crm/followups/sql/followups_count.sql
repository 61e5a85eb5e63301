-- How many of the user's open or snoozed follow-ups are due by `until` (an index-only scan of
-- followups_due_idx).
SELECT count(*) AS n FROM crm.followups
WHERE user_id = %(user_id)s AND state IN ('open', 'snoozed') AND remind_on <= %(until)s
