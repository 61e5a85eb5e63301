-- Names re-chosen from the votes of each contact's addresses (not one the user typed).
UPDATE crm.contacts c
SET name = n.name, first_name = n.first_name, last_name = n.last_name,
    name_quality = n.quality, identity_key = n.identity_key, updated_on = %(now)s
FROM (
    SELECT * FROM jsonb_to_recordset(%(names)s::jsonb) AS n(
        id bigint, name text, first_name text, last_name text, quality smallint, identity_key text)
    ORDER BY id
) n
WHERE c.id = n.id
  AND c.name_source <> 'you'  -- a name the user gave is never re-chosen from mail
