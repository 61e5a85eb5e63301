-- When a follow-up's reminder is due now (NULL: closed, or waiting for a reply).
SELECT remind_on FROM crm.followups
WHERE id = %(id)s AND state IN ('open', 'snoozed')
