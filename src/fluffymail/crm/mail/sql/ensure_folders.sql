-- Folder ids by name, creating the missing folders.
WITH wanted AS (SELECT unnest(%(names)s::text[]) AS name),
inserted AS (
    INSERT INTO crm.folders (connection_id, name)
    SELECT %(connection_id)s, name FROM wanted
    ON CONFLICT (connection_id, name) DO NOTHING
    RETURNING id, name
)
SELECT id, name FROM inserted
UNION ALL
SELECT f.id, f.name FROM crm.folders f JOIN wanted w ON w.name = f.name
WHERE f.connection_id = %(connection_id)s
