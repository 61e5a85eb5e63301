-- Rename or recolour one of a workspace's tags (NULL keeps the value).
UPDATE crm.tags
SET name = coalesce(%(name)s, name), colour = coalesce(%(colour)s, colour)
WHERE id = %(tag_id)s AND workspace_id = %(workspace_id)s
RETURNING id, name, colour, 0::bigint AS contacts
