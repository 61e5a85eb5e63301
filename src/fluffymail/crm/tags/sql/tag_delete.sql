-- Delete one of a workspace's tags (it comes off every contact and company).
DELETE FROM crm.tags
WHERE id = %(tag_id)s AND workspace_id = %(workspace_id)s
RETURNING id, name, colour, 0::bigint AS contacts
