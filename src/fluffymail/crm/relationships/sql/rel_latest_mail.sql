-- The date of the user's latest mail up to now (mail dated later is stored undated).
SELECT max(date) FROM crm.messages WHERE user_id = %(user_id)s AND date <= %(now)s
