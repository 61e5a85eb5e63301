-- Folder ids by name, creating the missing folders. The existing ones are locked as a foreign
-- key's check would lock them (a folder's deletion waits for the batch linking mail to it, then
-- deletes those links too): the links carry no such check since migration 0057.
WITH wanted AS (SELECT unnest(%(names)s::text[]) AS name),
inserted AS (
    INSERT INTO crm.folders (connection_id, name)
    SELECT %(connection_id)s, name FROM wanted
    ON CONFLICT (connection_id, name) DO NOTHING
    RETURNING id, name
), existing AS (
    SELECT f.id, f.name FROM crm.folders f JOIN wanted w ON w.name = f.name
    WHERE f.connection_id = %(connection_id)s
    FOR KEY SHARE OF f
)
SELECT id, name FROM inserted
UNION ALL
SELECT id, name FROM existing
