-- A workspace's tags by name, each with how many of the user's contacts carry it.
SELECT t.id, t.name, t.colour,
       (SELECT count(*) FROM crm.contact_tags ct JOIN crm.contacts c ON c.id = ct.contact_id
        WHERE ct.tag_id = t.id AND c.user_id = %(user_id)s AND c.merged_into_id IS NULL)
         AS contacts
FROM crm.tags t
WHERE t.workspace_id = %(workspace_id)s
ORDER BY lower(t.name), t.id
