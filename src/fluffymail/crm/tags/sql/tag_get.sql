-- One of a workspace's tags.
SELECT t.id, t.name, t.colour, 0::bigint AS contacts
FROM crm.tags t
WHERE t.id = %(tag_id)s AND t.workspace_id = %(workspace_id)s
