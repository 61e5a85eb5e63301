-- A duplicate copy may have problems the stored one lacked: keep the union.
UPDATE crm.messages m
SET problems = ARRAY(SELECT DISTINCT unnest(m.problems || p.problems))
FROM jsonb_to_recordset(%(problems)s::jsonb) AS p(dedup_key text, problems text[])
WHERE m.user_id = %(user_id)s AND m.dedup_key = p.dedup_key AND NOT (p.problems <@ m.problems)
