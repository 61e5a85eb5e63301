-- Subject and date of the user's messages among `ids` (citations, evidence, fact sources).
SELECT id, subject, date, from_address
FROM crm.messages
WHERE user_id = %(user_id)s AND id = ANY(%(ids)s::bigint[])
