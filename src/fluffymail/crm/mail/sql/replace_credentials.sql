-- Re-encrypted credentials for a batch of connections, each written only if the row still holds
-- the token that was read (a token refreshed meanwhile is left alone). Returns the ids written.
UPDATE crm.connections AS c
SET credentials = r.new
FROM unnest(%(ids)s::bigint[], %(old)s::bytea[], %(new)s::bytea[]) AS r(id, old, new)
WHERE c.id = r.id AND c.credentials = r.old
RETURNING c.id
