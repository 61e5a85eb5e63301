-- One of a workspace's tags by name, ignoring case.
SELECT t.id, t.name, t.colour, 0::bigint AS contacts
FROM crm.tags t
WHERE t.workspace_id = %(workspace_id)s AND lower(t.name) = lower(%(name)s)
