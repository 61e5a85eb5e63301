-- A duplicate copy may have problems the stored one lacked: keep the union.
UPDATE crm.messages m
SET problems = ARRAY(SELECT DISTINCT unnest(m.problems || p.problems))
FROM jsonb_to_recordset(%(problems)s::jsonb) AS p(id bigint, problems text[])
WHERE m.id = p.id AND NOT (p.problems <@ m.problems)
